// Credits: the caller's balance (what is held for tasks, what is available) and ledger; admins top
// up or correct anyone's credits here.
import { useState } from "preact/hooks";
import { type Account, type LedgerEntry, api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatTime, useLoad } from "../components/ui";
import { useEvents, useThrottled } from "../live";
import { pathFor } from "../router";
import { useSession } from "../session";

const fmt = (n: number) => Number(n.toFixed(3)).toString();

export function Credits() {
  const [credits, reload] = useLoad(() => api.get("/api/v1/credits", {}), []);
  const [ledger, reloadLedger] = useLoad(() => api.get("/api/v1/credits/transactions", { query: { limit: 100 } }), []);
  const [more, setMore] = useState<LedgerEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const refresh = useThrottled(() => {
    setMore([]);
    reload();
    reloadLedger();
  }, 300);
  useEvents(["tasks"], refresh, refresh); // a task queued, charged or released moves the numbers
  const { user } = useSession();
  const loadMore = async (from: string) => {
    const r = await api.get("/api/v1/credits/transactions", { query: { limit: 100, cursor: from } });
    if (r.ok) {
      setMore((m) => [...m, ...r.data.items]);
      setCursor(r.data.next_cursor);
    }
  };
  const entries = ledger.state === "ok" ? [...ledger.data.items, ...more] : [];
  const next = ledger.state === "ok" ? (more.length ? cursor : ledger.data.next_cursor) : null;
  return (
    <>
      <h1 tabIndex={-1}>Credits</h1>
      {credits.state === "error" && <ProblemView problem={credits.problem} retry={reload} />}
      {credits.state === "ok" && (
        <dl class="facts balance">
          <dt>Balance</dt>
          <dd class="big">{fmt(credits.data.balance)}</dd>
          <dt>Held for tasks</dt>
          <dd>{fmt(credits.data.held)}</dd>
          <dt>Available</dt>
          <dd>{fmt(credits.data.available)}</dd>
        </dl>
      )}
      <p class="hint">
        Priced models charge per row: predictions at once, tasks when they are done. Your credits never go below zero: a
        request you cannot pay for is refused and costs nothing.
      </p>
      {user?.role === "admin" && <TopUp onDone={refresh} />}
      <h2>Ledger</h2>
      {ledger.state === "error" && <ProblemView problem={ledger.problem} retry={reloadLedger} />}
      {ledger.state === "ok" &&
        (entries.length === 0 ? (
          <Empty title="Nothing yet">
            <p>
              {user?.role === "admin"
                ? "Top up an account above; every change of a balance is listed here."
                : "An admin tops up your credits; every change of your balance is listed here."}
            </p>
          </Empty>
        ) : (
          <>
            <Table caption="Every change of your balance, newest first" columns={["When", "Amount", "Balance after", "Why"]}>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.at)}</td>
                  <td class="number">{(e.amount > 0 ? "+" : "") + fmt(e.amount)}</td>
                  <td class="number">{fmt(e.balance_after)}</td>
                  <td>
                    {e.task_id !== null ? <Link href={pathFor("task", { id: String(e.task_id) })}>{e.reason}</Link> : e.reason}
                  </td>
                </tr>
              ))}
            </Table>
            {next && (
              <button type="button" onClick={() => loadMore(next)}>
                Show more entries
              </button>
            )}
          </>
        ))}
    </>
  );
}

function TopUp({ onDone }: { onDone: () => void }) {
  const [users] = useLoad(() => api.get("/api/v1/users", { query: { limit: 1000 } }), []);
  const [who, setWho] = useState("");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState("");
  const errors = fieldErrors(problem, ["amount", "reason"]);
  const list: Account[] = users.state === "ok" ? users.data.items.filter((u) => u.role !== "watchdog") : [];
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone("");
    const n = Number(amount);
    if (!amount.trim() || !Number.isFinite(n)) {
      return setProblem({ status: 422, title: "", detail: "", errors: [{ field: "amount", message: "a number of credits" }] });
    }
    const r = await api.post("/api/v1/users/{id}/credits", {
      path: { id: who || String(list[0]?.id ?? "") },
      body: { amount: n, reason: reason.trim() },
    });
    setProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setDone(`Done: the balance is now ${fmt(r.data.balance_after)}.`);
    setAmount("");
    setReason("");
    onDone();
  };
  return (
    <details class="panel">
      <summary>Top up or correct a user’s credits</summary>
      <form onSubmit={submit} noValidate class="narrow">
        <div class="field">
          <label for="topup-user">User</label>
          <select id="topup-user" value={who || String(list[0]?.id ?? "")} onChange={(e) => setWho(e.currentTarget.value)}>
            {list.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </div>
        <Field label="Amount" name="amount" value={amount} onInput={setAmount} error={errors.amount}
          hint="Credits, up to 3 decimals; negative to correct" />
        <Field label="Reason" name="reason" value={reason} onInput={setReason} error={errors.reason}
          hint="Kept in the ledger" />
        <button type="submit" class="primary">
          Apply
        </button>
        <FormMessage error={errors[""]} success={done || undefined} />
      </form>
    </details>
  );
}
