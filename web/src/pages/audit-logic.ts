// The audit page's filters as the URL's query (so the back button and shared links work) and
// as the API's query, the form's date-times, and how a record's numbers read. Pure.
import { anyFilterSet, filterSearch, filtersIn, setFilters } from "./url-filters";

export const filterNames = ["user", "method", "path_prefix", "status", "since", "until"] as const;
export type FilterName = (typeof filterNames)[number];
export type Filters = Record<FilterName, string>;

export const noFilters: Filters = { user: "", method: "", path_prefix: "", status: "", since: "", until: "" };

// The filters in a URL's query ("?status=201&method=POST"); others are ignored.
export const filtersFrom = (search: string): Filters => filtersIn(filterNames, search);

// The query of the filters that are set, in a fixed order: "" when none is.
export const searchOf = (f: Filters): string => filterSearch(filterNames, f);

export const anyFilter = (f: Filters): boolean => anyFilterSet(filterNames, f);

// The API's query: only the filters that are set (the API refuses an empty status).
export const apiQuery = (f: Filters): Partial<Filters> => setFilters(filterNames, f);

const pad = (n: number) => String(n).padStart(2, "0");

// A time the API takes (RFC 3339 or epoch milliseconds) as a datetime-local input's value, in
// the browser's time zone: "2026-05-01T14:30" (seconds when not 0); "" when it is not a time.
export function toLocalInput(value: string): string {
  if (!value) return "";
  const d = new Date(/^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(d.getTime())) return "";
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getSeconds() ? `${base}:${pad(d.getSeconds())}` : base;
}

// A datetime-local input's value (the browser's time zone) as RFC 3339 in UTC; "" for "".
export function fromLocalInput(value: string): string {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().replace(".000Z", "Z");
}

// 37 → "37 µs", 1500 → "1.5 ms", 2_340_000 → "2.34 s".
export function formatLatency(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${Number((us / 1000).toPrecision(3))} ms`;
  return `${Number((us / 1_000_000).toPrecision(3))} s`;
}
