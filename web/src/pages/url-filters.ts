// A list page's filters as the URL's query (so the back button, reloads and shared links keep
// them) and as the API's query: each filter a named text field, "" when not set. Pure.

export type FilterValues<N extends string> = Record<N, string>;

// The filters `names` in a URL's query ("?status=201&method=POST"); others are ignored.
export function filtersIn<N extends string>(names: readonly N[], search: string): FilterValues<N> {
  const q = new URLSearchParams(search);
  const f = {} as FilterValues<N>;
  for (const n of names) f[n] = q.get(n)?.trim() ?? "";
  return f;
}

// The query of the filters that are set, in the order of `names`: "" when none is.
export function filterSearch<N extends string>(names: readonly N[], f: FilterValues<N>): string {
  const q = new URLSearchParams();
  for (const n of names) {
    const v = f[n].trim();
    if (v) q.set(n, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function anyFilterSet<N extends string>(names: readonly N[], f: FilterValues<N>): boolean {
  return names.some((n) => f[n].trim() !== "");
}

// The API's query: only the filters that are set (APIs refuse an empty number or time).
export function setFilters<N extends string>(names: readonly N[], f: FilterValues<N>): Partial<FilterValues<N>> {
  const out: Partial<FilterValues<N>> = {};
  for (const n of names) if (f[n].trim()) out[n] = f[n].trim();
  return out;
}
