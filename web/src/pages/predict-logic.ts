// What the Predict page computes from a version's metadata and a prediction: the form's values
// as the API's features, the interpretation band of a value, the contributions as bars.

export interface Band {
  below?: number;
  label: string;
  color?: string;
}

// The form's texts as features: empty is missing (null); what is not a number is an error.
export function featuresOf(names: string[], texts: Record<string, string>): {
  features: Record<string, number | null>;
  errors: Record<string, string>;
} {
  const features: Record<string, number | null> = {};
  const errors: Record<string, string> = {};
  for (const name of names) {
    const text = (texts[name] ?? "").trim();
    if (!text) {
      features[name] = null;
      continue;
    }
    const n = Number(text);
    if (Number.isFinite(n)) features[name] = n;
    else errors[`features.${name}`] = "Give a number, or leave it empty when it is missing.";
  }
  return { features, errors };
}

// The metadata's bands ([{below, label, color}, …, {label, color}]), when it has well-formed ones.
export function bandsOf(metadata: Record<string, unknown>): Band[] {
  const b = metadata.bands;
  if (!Array.isArray(b)) return [];
  return b.filter(
    (x): x is Band =>
      typeof x === "object" && x !== null && typeof (x as Band).label === "string" &&
      ((x as Band).below === undefined || typeof (x as Band).below === "number"),
  );
}

// The first band whose `below` the value is under (a band without `below` takes the rest).
export function bandOf(value: number, bands: Band[]): Band | null {
  return bands.find((b) => b.below === undefined || value < b.below) ?? null;
}

export interface Bar {
  name: string;
  value: number;
  percent: number; // of the largest magnitude, 0..100
}

// The contributions, largest magnitude first, the bias (_bias) last as "bias".
export function barsOf(contributions: Record<string, number>): Bar[] {
  const entries = Object.entries(contributions);
  const max = Math.max(1e-12, ...entries.map(([, v]) => Math.abs(v)));
  const bar = ([name, value]: [string, number]) => ({ name, value, percent: (100 * Math.abs(value)) / max });
  const features = entries.filter(([k]) => k !== "_bias").sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const bias = entries.filter(([k]) => k === "_bias").map(([, v]) => ["bias", v] as [string, number]);
  return [...features, ...bias].map(bar);
}
