// Admin: the user accounts - list (paged), create, change a role or a username, delete (after a
// confirm step).
// The server's reasons land next to the field or the row they are about.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Account, api } from "../api/client";
import { events } from "../api/events";
import { type Problem, describe, fieldErrors } from "../api/problem";
import { Field, FormMessage, Link, ProblemView, Table, formatTime, useLoad, usernameHint } from "../components/ui";
import { useSession } from "../session";
import { AdminOnly } from "./AdminOnly";

type Role = Account["role"];

export function Users() {
  return (
    <AdminOnly title="Users">
      <UserList />
    </AdminOnly>
  );
}

function UserList() {
  const [page, reload] = useLoad(() => api.get("/api/v1/users", { query: { limit: 100 } }), []);
  // What is shown: the first page, the pages "Show more" added, and the changes made here.
  const [users, setUsers] = useState<Account[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [done, setDone] = useState("");
  useEffect(() => {
    if (page.state !== "ok") return;
    setUsers(page.data.items);
    setNext(page.data.next_cursor);
  }, [page]);

  const loadMore = async (from: string) => {
    const r = await api.get("/api/v1/users", { query: { limit: 100, cursor: from } });
    if (r.ok) {
      setUsers((u) => [...(u ?? []), ...r.data.items]);
      setNext(r.data.next_cursor);
    }
  };

  const shown = users ?? (page.state === "ok" ? page.data.items : null);
  return (
    <>
      <details class="panel">
        <summary>Create a user</summary>
        <CreateUser
          onCreated={(u) => {
            setDone(`${u.email} was created as ${u.role}.`);
            reload();
          }}
        />
      </details>
      <p class="message success" role="status">
        {done}
      </p>
      {page.state === "loading" && <p aria-busy="true">Loading the users…</p>}
      {page.state === "error" && <ProblemView problem={page.problem} retry={reload} />}
      {shown && (
        <>
          <Table caption="User accounts" columns={["Email", "Name", "Username", "Role", "Created", "Actions"]}>
            {shown.map((u) => (
              <UserRow
                key={u.id}
                account={u}
                onChanged={(c) => setUsers((us) => (us ?? shown).map((x) => (x.id === c.id ? c : x)))}
                onDeleted={() => {
                  setUsers((us) => (us ?? shown).filter((x) => x.id !== u.id));
                  setDone(`${u.email} was deleted.`);
                }}
              />
            ))}
          </Table>
          {next && (
            <button type="button" onClick={() => loadMore(next)}>
              Show more users
            </button>
          )}
        </>
      )}
    </>
  );
}

function CreateUser({ onCreated }: { onCreated: (u: Account) => void }) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("user");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  // A 409 naming no field is the email (taken, in any case or Unicode form): said next to it. A
  // taken username names its field.
  const errors =
    problem?.status === 409 && problem.errors.length === 0
      ? { email: describe(problem) }
      : fieldErrors(problem, ["email", "name", "username", "password", "role"]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await api.post("/api/v1/users", {
      body: { email, password, role, ...(name ? { name } : {}), ...(username ? { username } : {}) },
    });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setEmail("");
    setName("");
    setUsername("");
    setPassword("");
    onCreated(r.data);
  };

  return (
    <form onSubmit={submit} noValidate class="narrow">
      <Field label="Email" name="email" type="email" autoComplete="off" value={email} onInput={setEmail}
        error={errors.email} required />
      <Field label="Name (optional)" name="name" autoComplete="off" value={name} onInput={setName} error={errors.name} />
      <Field label="Username (optional)" name="username" autoComplete="off" value={username} onInput={setUsername}
        error={errors.username} hint={usernameHint} />
      <Field label="Password" name="password" type="password" autoComplete="new-password" value={password}
        onInput={setPassword} error={errors.password} hint="At least 8 characters. Tell it to them another way."
        required />
      <div class="field">
        <label for="field-role">Role</label>
        <select id="field-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}
          aria-invalid={errors.role ? "true" : undefined} aria-describedby={errors.role ? "field-role-error" : undefined}>
          <option value="user">user: reads models, predicts</option>
          <option value="admin">admin: everything</option>
        </select>
        {errors.role && (
          <p class="error" id="field-role-error">
            {errors.role}
          </p>
        )}
      </div>
      <FormMessage error={errors[""]} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Creating…" : "Create user"}
      </button>
    </form>
  );
}

function UserRow({ account, onChanged, onDeleted }: { account: Account; onChanged: (u: Account) => void; onDeleted: () => void }) {
  const { user: me, setUser } = useSession();
  const self = me?.id === account.id;
  const [role, setRole] = useState<Role>(account.role);
  const [roleProblem, setRoleProblem] = useState<Problem | null>(null);
  const [roleDone, setRoleDone] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [deleteProblem, setDeleteProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const id = `user-${account.id}`;

  useEffect(() => setRole(account.role), [account.role]);
  useEffect(() => {
    if (confirming) cancel.current?.focus();
  }, [confirming]);

  const changeRole = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setRoleDone("");
    const r = await api.patch("/api/v1/users/{id}", { path: { id: String(account.id) }, body: { role } });
    setBusy(false);
    setRoleProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setRoleDone(`Now ${r.data.role}.`);
    onChanged(r.data);
    if (self) setUser(r.data); // an admin who made themselves a user sees the console as one
  };

  const remove = async () => {
    setBusy(true);
    const r = await api.delete("/api/v1/users/{id}", { path: { id: String(account.id) } });
    setBusy(false);
    setConfirming(false);
    if (!r.ok) {
      setDeleteProblem(r.problem);
      requestAnimationFrame(() => deleteButton.current?.focus()); // once the button is back
      return;
    }
    if (self) {
      // The account and its sessions are gone: the console signs out.
      events.close();
      setUser(null);
      return;
    }
    onDeleted();
  };

  const roleError = roleProblem ? (fieldErrors(roleProblem, ["role"]).role ?? describe(roleProblem)) : "";
  const roles: Role[] = account.role === "watchdog" ? ["admin", "user", "watchdog"] : ["admin", "user"];
  return (
    <tr>
      <th scope="row" class="wrap">
        {account.email}
        {self && <span class="tag">you</span>}
        {account.disabled && <span class="tag">disabled</span>}
      </th>
      <td>{account.name || "—"}</td>
      <td>
        <UsernameForm account={account} onChanged={onChanged} />
      </td>
      <td>
        <form class="row-form" onSubmit={changeRole}>
          <label class="visually-hidden" for={`${id}-role`}>
            Role of {account.email}
          </label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}
            aria-invalid={roleError ? "true" : undefined} aria-describedby={roleError ? `${id}-role-error` : undefined}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy || role === account.role}>
            Change role<span class="visually-hidden"> of {account.email}</span>
          </button>
        </form>
        {roleError && (
          <p class="error" id={`${id}-role-error`} role="alert">
            {roleError}
          </p>
        )}
        {roleDone && !roleError && (
          <p class="message success" role="status">
            {roleDone}
          </p>
        )}
      </td>
      <td>{formatTime(account.created_at)}</td>
      <td>
        {confirming ? (
          <div role="group" aria-labelledby={`${id}-confirm`} class="confirm">
            <p id={`${id}-confirm`}>
              Delete {account.email}?{self ? " It is your own account: you will be signed out." : ""} This cannot be
              undone.
            </p>
            <button type="button" class="danger" disabled={busy} onClick={remove}>
              Yes, delete<span class="visually-hidden"> {account.email}</span>
            </button>
            <button type="button" ref={cancel} onClick={() => {
              setConfirming(false);
              requestAnimationFrame(() => deleteButton.current?.focus());
            }}>
              Cancel
            </button>
          </div>
        ) : (
          <div class="actions">
            <Link href={`/admin/audit?user=${account.id}`}>
              Audit log<span class="visually-hidden"> of {account.email}</span>
            </Link>
            <button type="button" ref={deleteButton} onClick={() => {
              setDeleteProblem(null);
              setConfirming(true);
            }}>
              Delete<span class="visually-hidden"> {account.email}</span>
            </button>
          </div>
        )}
        {deleteProblem && !confirming && (
          <p class="error" role="alert">
            {describe(deleteProblem)}
          </p>
        )}
      </td>
    </tr>
  );
}

// A user's username, changed in place; empty clears it. The server's reason shows beside it.
function UsernameForm({ account, onChanged }: { account: Account; onChanged: (u: Account) => void }) {
  const [username, setUsername] = useState(account.username ?? "");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `user-${account.id}-username`;
  useEffect(() => setUsername(account.username ?? ""), [account.username]);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await api.patch("/api/v1/users/{id}", {
      path: { id: String(account.id) },
      body: { username: username === "" ? null : username },
    });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (r.ok) onChanged(r.data);
  };

  const error = problem ? (fieldErrors(problem, ["username"]).username ?? describe(problem)) : "";
  return (
    <>
      <form class="row-form" onSubmit={save}>
        <label class="visually-hidden" for={id}>
          Username of {account.email}
        </label>
        <input id={id} value={username} size={12} autoComplete="off" placeholder="—"
          onInput={(e) => setUsername(e.currentTarget.value)} aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? `${id}-error` : undefined} />
        <button type="submit" disabled={busy || username === (account.username ?? "")}>
          Save<span class="visually-hidden"> the username of {account.email}</span>
        </button>
      </form>
      {error && (
        <p class="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </>
  );
}
