import { useState } from "preact/hooks";
import { type User, api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Field, FormMessage, useLoad } from "../components/ui";
import { useSession } from "../session";

export function Profile() {
  const { user } = useSession();
  if (!user) return null;
  return <ProfileOf user={user} />;
}

function ProfileOf({ user }: { user: User }) {
  // The session (GET /auth/me) has no username: the account has.
  const [account] = useLoad(() => api.get("/api/v1/users/{id}", { path: { id: String(user.id) } }), [user.id]);
  return (
    <>
      <h1 tabIndex={-1}>Your profile</h1>
      <dl class="facts">
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Name</dt>
        <dd>{user.name || "—"}</dd>
        <dt>Username</dt>
        <dd>{account.state === "ok" ? (account.data.username ?? "—") : account.state === "loading" ? "…" : "—"}</dd>
        <dt>Role</dt>
        <dd>{user.role}</dd>
      </dl>
      <PasswordForm id={user.id} />
    </>
  );
}

function PasswordForm({ id }: { id: number }) {
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem, ["current_password", "password"]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(false);
    setMismatch(password !== repeat);
    if (password !== repeat) return;
    setBusy(true);
    const r = await api.patch("/api/v1/users/{id}", {
      path: { id: String(id) },
      body: { current_password: current, password },
    });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (r.ok) {
      setDone(true);
      setCurrent("");
      setPassword("");
      setRepeat("");
    }
  };

  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Change your password</h2>
      <form onSubmit={submit} noValidate class="narrow">
        <Field label="Current password" name="current_password" type="password" autoComplete="current-password"
          value={current} onInput={setCurrent} error={errors.current_password} required />
        <Field label="New password" name="password" type="password" autoComplete="new-password" value={password}
          onInput={setPassword} error={errors.password} hint="At least 8 characters." required />
        <Field label="Repeat the new password" name="repeat" type="password" autoComplete="new-password"
          value={repeat} onInput={setRepeat} error={mismatch ? "The two passwords differ." : undefined} required />
        <FormMessage error={errors[""]} success={done ? "Your password was changed." : undefined} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Changing…" : "Change password"}
        </button>
      </form>
    </section>
  );
}
