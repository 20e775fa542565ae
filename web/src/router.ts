// The console's client-side routes: one URL per page, the History API for moves, so the back
// button, reloads and shared links work (the server answers every page path with index.html).
import { useEffect, useState } from "preact/hooks";

export type Page =
  | "sign-in"
  | "sign-up"
  | "models"
  | "model"
  | "predict"
  | "fleet"
  | "device"
  | "rollouts"
  | "rollout-new"
  | "rollout"
  | "alarms"
  | "sensors"
  | "sensor"
  | "baselines"
  | "records"
  | "record"
  | "tasks"
  | "task"
  | "credits"
  | "profile"
  | "admin-users"
  | "admin-audit"
  | "admin-health"
  | "not-found";

export interface Route {
  page: Page;
  params: Record<string, string>;
  // Pages a signed-out visitor may see; the others send them to sign-in.
  public: boolean;
}

const table: { pattern: string; page: Page; public?: boolean }[] = [
  { pattern: "/sign-in", page: "sign-in", public: true },
  { pattern: "/sign-up", page: "sign-up", public: true },
  { pattern: "/models", page: "models" },
  { pattern: "/models/:name", page: "model" },
  { pattern: "/predict", page: "predict" },
  { pattern: "/predict/:name", page: "predict" },
  { pattern: "/fleet", page: "fleet" },
  { pattern: "/fleet/:name", page: "device" },
  { pattern: "/rollouts", page: "rollouts" },
  { pattern: "/rollouts/new", page: "rollout-new" },
  { pattern: "/rollouts/:id", page: "rollout" },
  { pattern: "/alarms", page: "alarms" },
  { pattern: "/sensors", page: "sensors" },
  { pattern: "/sensors/:name", page: "sensor" },
  { pattern: "/baselines", page: "baselines" },
  { pattern: "/records", page: "records" },
  { pattern: "/records/:id", page: "record" },
  { pattern: "/tasks", page: "tasks" },
  { pattern: "/tasks/:id", page: "task" },
  { pattern: "/credits", page: "credits" },
  { pattern: "/profile", page: "profile" },
  { pattern: "/admin/users", page: "admin-users" },
  { pattern: "/admin/audit", page: "admin-audit" },
  { pattern: "/admin/health", page: "admin-health" },
];

// Where "/" goes.
export const home = "/models";

// The route of a path (no query): "/models/iris" → model {name: "iris"}.
export function matchRoute(pathname: string): Route {
  const parts = pathname.replace(/\/+$/, "").split("/").slice(1);
  for (const r of table) {
    const want = r.pattern.split("/").slice(1);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    want.forEach((seg, i) => {
      const got = parts[i] ?? "";
      if (seg.startsWith(":")) {
        try {
          params[seg.slice(1)] = decodeURIComponent(got);
        } catch {
          ok = false;
        }
        if (!got) ok = false;
      } else if (seg !== got) ok = false;
    });
    if (ok) return { page: r.page, params, public: r.public ?? false };
  }
  return { page: "not-found", params: {}, public: true };
}

// The path of a page: pathFor("model", {name: "a b"}) → "/models/a%20b". Of a page's patterns,
// the one with the most parameters that are all given.
export function pathFor(page: Exclude<Page, "not-found">, params: Record<string, string> = {}): string {
  const names = (pattern: string) => [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const r = table
    .filter((t) => t.page === page && names(t.pattern).every((k) => params[k] !== undefined))
    .sort((a, b) => names(b.pattern).length - names(a.pattern).length)[0]!;
  return r.pattern.replace(/:(\w+)/g, (_, k: string) => encodeURIComponent(params[k] ?? ""));
}

// A same-origin path to return to after signing in (?next=…); anything else goes home.
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return home;
  return next;
}

const changed = "vigil:navigate";

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  dispatchEvent(new Event(changed));
}

// The current location; re-renders on navigate() and on the back and forward buttons.
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    addEventListener("popstate", update);
    addEventListener(changed, update);
    return () => {
      removeEventListener("popstate", update);
      removeEventListener(changed, update);
    };
  }, []);
  return loc;
}
