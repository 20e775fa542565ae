import { useState } from "preact/hooks";
import { api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Field, FormMessage, Link, usernameHint } from "../components/ui";
import { navigate } from "../router";

export function SignUp() {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(problem, ["email", "password", "name", "username"]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setMismatch(password !== repeat);
    if (password !== repeat) return;
    setBusy(true);
    const r = await api.post("/api/v1/auth/register", {
      body: { email, password, ...(name ? { name } : {}), ...(username ? { username } : {}) },
    });
    setBusy(false);
    if (!r.ok) return setProblem(r.problem);
    navigate("/sign-in?registered", { replace: true });
  };

  return (
    <div class="narrow">
      <h1 tabIndex={-1}>Create an account</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" value={email} onInput={setEmail}
          error={errors.email} required />
        <Field label="Name (optional)" name="name" autoComplete="name" value={name} onInput={setName}
          error={errors.name} />
        <Field label="Username (optional)" name="username" autoComplete="off" value={username} onInput={setUsername}
          error={errors.username} hint={usernameHint} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={password}
          onInput={setPassword} error={errors.password} hint="At least 8 characters." required />
        <Field label="Repeat the password" name="repeat" type="password" autoComplete="new-password" value={repeat}
          onInput={setRepeat} error={mismatch ? "The two passwords differ." : undefined} required />
        <FormMessage error={errors[""]} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <Link href="/sign-in">Sign in</Link>.
      </p>
    </div>
  );
}
