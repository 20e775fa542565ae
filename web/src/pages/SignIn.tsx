import { useState } from "preact/hooks";
import { api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Field, FormMessage, Link } from "../components/ui";
import { navigate, safeNext } from "../router";
import { useSession } from "../session";

export function SignIn({ search }: { search: string }) {
  const { setUser } = useSession();
  const query = new URLSearchParams(search);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem, ["email", "password"]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await api.post("/api/v1/auth/login", { body: { email, password } });
    setBusy(false);
    if (!r.ok) return setProblem(r.problem);
    setUser(r.data.user);
    navigate(safeNext(query.get("next")), { replace: true });
  };

  return (
    <div class="narrow">
      <h1 tabIndex={-1}>Sign in</h1>
      {query.has("registered") && !problem && (
        <p class="message success" role="status">
          Your account was created. Sign in with it.
        </p>
      )}
      {query.has("signed-out") && !problem && (
        <p class="message success" role="status">
          You signed out.
        </p>
      )}
      <form onSubmit={submit} noValidate aria-describedby={errors[""] ? "sign-in-error" : undefined}>
        <Field label="Email" name="email" type="email" autoComplete="username" value={email} onInput={setEmail}
          error={errors.email} required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
          onInput={setPassword} error={errors.password} required />
        <div id="sign-in-error">
          <FormMessage error={errors[""]} />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        No account yet? <Link href="/sign-up">Create one</Link>.
      </p>
    </div>
  );
}
