// What went wrong with an API call, in words a person can act on: the server's
// application/problem+json answer ({type,title,status,detail,errors:[{field,message}]}) or a
// failure to reach it at all (status 0).

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  status: number; // 0: no answer (network, server down)
  title: string;
  detail: string;
  errors: FieldError[];
}

const fallbackTitles: Record<number, string> = {
  0: "The server could not be reached",
  400: "The request was malformed",
  401: "You are not signed in",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  415: "Unsupported content type",
  422: "Some values are not valid",
  429: "Too many attempts",
  503: "The server is busy or not ready",
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// A Problem from an answer that is not 2xx: its problem+json body when it has one, else what
// its status means.
export function problemFrom(status: number, body: unknown): Problem {
  const p = isRecord(body) ? body : {};
  const errors = Array.isArray(p.errors)
    ? p.errors.filter(isRecord).map((e) => ({ field: String(e.field ?? ""), message: String(e.message ?? "") }))
    : [];
  const title = fallbackTitles[status] ?? (typeof p.title === "string" && p.title ? p.title : `Error ${status}`);
  return {
    status,
    title,
    detail: typeof p.detail === "string" ? p.detail : "",
    errors,
  };
}

// A Problem for a request that got no answer.
export function unreachable(reason: string): Problem {
  return { status: 0, title: fallbackTitles[0]!, detail: reason, errors: [] };
}

// One sentence for a person: the detail when the server gave one, else the title.
export function describe(p: Problem): string {
  if (p.status === 0) return `${p.title}: ${p.detail || "check that vigil serve is running"}.`;
  const text = p.detail || p.title;
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// The messages by field, for showing each next to its input. `known` are the fields the form
// shows; errors about any other field go to the form's own message (under `""`). A problem
// without a list whose detail starts with a known field ("current_password is wrong") goes to
// that field.
export function fieldErrors(p: Problem | null, known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!p) return out;
  const named = p.errors.length === 0 ? known.find((f) => p.detail.startsWith(`${f} `)) : undefined;
  if (named) return { [named]: capital(named.replace(/_/g, " ") + p.detail.slice(named.length)) + "." };
  const other: string[] = [];
  for (const e of p.errors) {
    const msg = capital(e.message);
    if (known.includes(e.field)) out[e.field] = out[e.field] ? `${out[e.field]}; ${e.message}` : msg;
    else other.push(e.field ? `${e.field}: ${e.message}` : e.message);
  }
  if (other.length || p.errors.length === 0) out[""] = [describe(p), ...other].join(" ");
  return out;
}
