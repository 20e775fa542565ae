// Admin: the audit log - every API call, newest first, filtered by the fields of a form that
// writes them into the URL (so the back button and shared links work), paged with "Show more".
import { useState } from "preact/hooks";
import { type AuditRecord, api } from "../api/client";
import { type Problem, fieldErrors } from "../api/problem";
import { Empty, Field, FormMessage, Link, ProblemView, Table, formatBytes, formatTime, useLoad } from "../components/ui";
import { navigate } from "../router";
import { AdminOnly } from "./AdminOnly";
import {
  type Filters,
  anyFilter,
  apiQuery,
  filterNames,
  filtersFrom,
  formatLatency,
  fromLocalInput,
  searchOf,
  toLocalInput,
} from "./audit-logic";

const pageSize = 50;
const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

export function Audit({ search }: { search: string }) {
  return (
    <AdminOnly title="Audit log">
      <AuditLog search={search} />
    </AdminOnly>
  );
}

function AuditLog({ search }: { search: string }) {
  const filters = filtersFrom(search);
  const query = searchOf(filters);
  const [page, reload] = useLoad(() => api.get("/api/v1/audit", { query: { ...apiQuery(filters), limit: pageSize } }), [query]);
  const problem = page.state === "error" ? page.problem : null;
  const errors = fieldErrors(problem, filterNames);
  return (
    <>
      <p>Every API call, newest first. The log is written in the background, so a call shows a moment after it is made.</p>
      <FilterForm key={query} filters={filters} errors={errors}
        onFilter={(f) => (searchOf(f) === query ? reload() : navigate(`/admin/audit${searchOf(f)}`))} />
      {page.state === "loading" && <p aria-busy="true">Loading the audit log…</p>}
      {problem &&
        (errors[""] ? <ProblemView problem={problem} retry={reload} /> : <FormMessage error="Fix the filters marked above." />)}
      {page.state === "ok" && (
        <Records key={query} filters={filters} first={page.data.items} next={page.data.next_cursor} reload={reload} />
      )}
    </>
  );
}

function FilterForm({ filters, errors, onFilter }: {
  filters: Filters;
  errors: Record<string, string>;
  onFilter: (f: Filters) => void;
}) {
  const [draft, setDraft] = useState<Filters>({
    ...filters,
    since: toLocalInput(filters.since),
    until: toLocalInput(filters.until),
  });
  const set = (name: keyof Filters) => (value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const submit = (e: Event) => {
    e.preventDefault();
    onFilter({ ...draft, since: fromLocalInput(draft.since), until: fromLocalInput(draft.until) });
  };
  return (
    <form class="filters" onSubmit={submit} noValidate aria-label="Filters">
      <Field label="User" name="user" value={draft.user} onInput={set("user")} error={errors.user} hint="An id or an email." />
      <div class="field">
        <label for="field-method">Method</label>
        <select id="field-method" value={draft.method} onChange={(e) => set("method")(e.currentTarget.value)}>
          <option value="">Any</option>
          {methods.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
          {draft.method && !methods.includes(draft.method) && <option value={draft.method}>{draft.method}</option>}
        </select>
      </div>
      <Field label="Path starts with" name="path_prefix" value={draft.path_prefix} onInput={set("path_prefix")}
        error={errors.path_prefix} hint="For example /api/v1/users." />
      <Field label="Status" name="status" value={draft.status} onInput={set("status")} error={errors.status}
        hint="A code, such as 201 or 404." />
      <Field label="Since" name="since" type="datetime-local" value={draft.since} onInput={set("since")}
        error={errors.since} hint="Your local time." />
      <Field label="Until" name="until" type="datetime-local" value={draft.until} onInput={set("until")}
        error={errors.until} hint="Up to, not including." />
      <div class="filter-buttons">
        <button type="submit" class="primary">
          Filter
        </button>
        {anyFilter(filters) && <Link href="/admin/audit">Clear the filters</Link>}
      </div>
    </form>
  );
}

function Records({ filters, first, next, reload }: {
  filters: Filters;
  first: AuditRecord[];
  next: string | null;
  reload: () => void;
}) {
  const [more, setMore] = useState<AuditRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(next);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const items = [...first, ...more];
  const from = more.length || problem ? cursor : next;

  const loadMore = async (c: string) => {
    setBusy(true);
    const r = await api.get("/api/v1/audit", { query: { ...apiQuery(filters), limit: pageSize, cursor: c } });
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setMore((m) => [...m, ...r.data.items]);
    setCursor(r.data.next_cursor);
  };

  const showMore = from && (
    <button type="button" disabled={busy} onClick={() => loadMore(from)}>
      {busy ? "Loading…" : items.length ? "Show more" : "Search older calls"}
    </button>
  );

  if (items.length === 0) {
    return (
      <>
        {from ? (
          <Empty title="No matches yet">
            <p>None of the most recent calls searched match. Search older calls to go on.</p>
            {showMore}
          </Empty>
        ) : anyFilter(filters) ? (
          <Empty title="No calls match these filters">
            <p>
              Widen the time range or drop a filter. Method and status match exactly; the path matches from its start.{" "}
              <Link href="/admin/audit">Clear the filters</Link> to see every call.
            </p>
          </Empty>
        ) : (
          <Empty title="No calls recorded yet">
            <p>Calls show here a moment after they are made. Try again in a few seconds.</p>
            <button type="button" onClick={reload}>
              Reload
            </button>
          </Empty>
        )}
        {problem && <ProblemView problem={problem} />}
      </>
    );
  }

  return (
    <>
      <div class="wide">
        <Table caption="API calls, newest first"
          columns={["At", "User", "Method", "Path", "Status", "Latency", "Bytes in / out", "IP", "Request ID"]}>
          {items.map((r) => (
            <tr key={r.id}>
              <td>
                <time dateTime={r.at} title={r.at}>
                  {formatTime(r.at)}
                </time>
              </td>
              <td>
                {r.user ? <Link href={`/admin/audit?user=${r.user.id}`}>{r.user.email}</Link> : "anonymous"}
              </td>
              <td>{r.method}</td>
              <td>
                <code>{r.path}</code>
              </td>
              <td class="number">{r.status}</td>
              <td class="number">{formatLatency(r.latency_us)}</td>
              <td class="number">
                {formatBytes(r.bytes_in)} / {formatBytes(r.bytes_out)}
              </td>
              <td>{r.ip}</td>
              <td class="wrap">
                <code>{r.request_id}</code>
              </td>
            </tr>
          ))}
        </Table>
      </div>
      {problem && <ProblemView problem={problem} />}
      {showMore}
      {!from && <p class="hint">That is every matching call.</p>}
    </>
  );
}
