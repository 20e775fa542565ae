// The few building blocks every page uses: links that stay in the app, labelled fields with
// their error beside them, a form's own message, empty states, and loading an API resource.
import type { AnchorHTMLAttributes, ComponentChildren, ComponentType, TargetedMouseEvent } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Result } from "../api/client";
import { type Problem, describe } from "../api/problem";
import { navigate } from "../router";

// An <a> that moves within the console without reloading it (modified clicks open a tab).
export function Link(props: AnchorHTMLAttributes & { href: string }) {
  const { href, onClick, ...rest } = props;
  const click = (e: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (typeof onClick === "function") onClick(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}

interface FieldProps {
  label: string;
  name: string;
  value: string;
  onInput: (value: string) => void;
  type?: "text" | "email" | "password" | "datetime-local";
  error?: string | undefined;
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  minLength?: number;
}

// A labelled input; its error (and hint) are announced with it (aria-describedby).
// What a username may be (the server checks it and says why not).
export const usernameHint = "Letters, digits, . _ - (up to 64), starting with a letter or digit; unique.";

export function Field(p: FieldProps) {
  const id = `field-${p.name}`;
  const described = [p.hint ? `${id}-hint` : "", p.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        // Preact types each input type with its own roles; these share theirs.
        type={(p.type ?? "text") as "text"}
        value={p.value}
        autoComplete={p.autoComplete}
        required={p.required}
        minLength={p.minLength}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={described || undefined}
        onInput={(e) => p.onInput(e.currentTarget.value)}
      />
      {p.hint && (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
      {p.error && (
        <p class="error" id={`${id}-error`}>
          {p.error}
        </p>
      )}
    </div>
  );
}

// A form's message about itself: an error (role alert) or a success (role status).
export function FormMessage({ error, success }: { error?: string | undefined; success?: string | undefined }) {
  if (error) {
    return (
      <p class="message error" role="alert">
        {error}
      </p>
    );
  }
  return (
    <p class="message success" role="status">
      {success ?? ""}
    </p>
  );
}

// A table with a header row of `columns` and the rows given as children (<tr>s); its caption
// names it for screen readers.
export function Table({ caption, columns, children }: { caption: string; columns: string[]; children: ComponentChildren }) {
  return (
    <table>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

export function Empty({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="empty">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function ProblemView({ problem, retry }: { problem: Problem; retry?: () => void }) {
  return (
    <div class="problem" role="alert">
      <p>{describe(problem)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export type Loaded<T> =
  | { state: "loading" }
  | { state: "ok"; data: T }
  | { state: "error"; problem: Problem };

// Loads `load()` now and whenever `deps` change; reload() asks again, showing what was loaded
// until the answer comes (so the page, and the state of its forms, stay). The request starts
// while the page renders, not after it is painted (S12: a first page shows its data a frame or
// more sooner).
export function useLoad<T>(load: () => Promise<Result<T>>, deps: unknown[]): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: "loading" });
  const [round, setRound] = useState(0);
  const depsKey = JSON.stringify(deps);
  const loadedFor = useRef<string | null>(null);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const pending = useMemo(() => load(), [depsKey, round]);
  useEffect(() => {
    let live = true;
    const reloading = loadedFor.current === depsKey;
    loadedFor.current = depsKey;
    setValue((v) => (reloading && v.state === "ok" ? v : { state: "loading" }));
    pending.then((r) => {
      if (!live) return;
      setValue(r.ok ? { state: "ok", data: r.data } : { state: "error", problem: r.problem });
    });
    return () => {
      live = false;
    };
  }, [pending]);
  return [value, useCallback(() => setRound((n) => n + 1), [])];
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// A component loaded on its own (`load` is an import() of a module whose default export it is:
// a chart with uPlot), asked for once per `load` on the first page that shows it; null until
// it has come.
const lazyModules = new Map<unknown, Promise<{ default: ComponentType<never> }>>();
export function useLazyComponent<P>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> | null {
  const [loaded, setLoaded] = useState<{ c: ComponentType<P> } | null>(null);
  useEffect(() => {
    let live = true;
    let module = lazyModules.get(load) as Promise<{ default: ComponentType<P> }> | undefined;
    if (!module) lazyModules.set(load, (module = load()) as Promise<{ default: ComponentType<never> }>);
    void module.then((m) => live && setLoaded({ c: m.default }));
    return () => {
      live = false;
    };
  }, [load]);
  return loaded?.c ?? null;
}

// "Show more" of a list API: the items after the first page (whose cursor is `next`), read by
// `read(cursor)` a page at a time; `from` is the cursor to read next (null: no more), and a
// failed read leaves its problem.
export function useMore<T>(next: string | null, read: (cursor: string) => Promise<Result<{ items: T[]; next_cursor: string | null }>>) {
  const [more, setMore] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(next);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const from = more.length || problem ? cursor : next;
  const loadMore = async () => {
    if (!from) return;
    setBusy(true);
    const r = await read(from);
    setBusy(false);
    setProblem(r.ok ? null : r.problem);
    if (!r.ok) return;
    setMore((m) => [...m, ...r.data.items]);
    setCursor(r.data.next_cursor);
  };
  return { more, from, problem, busy, loadMore };
}
