// The baselines page's logic, pure: the admin's form (values typed or pasted, or a range cut
// from a sensor's history) to the body POST /api/v1/baselines takes, with errors by field.
import { fromLocalInput } from "./audit-logic";

// Numbers separated by commas, semicolons, spaces or new lines ("1.5, 2\n3"); an error names
// the first that is not a finite number.
export function parseValues(text: string): { values: number[] } | { error: string } {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return { error: "Give at least one value" };
  const values: number[] = [];
  for (const [i, p] of parts.entries()) {
    const n = Number(p);
    if (!Number.isFinite(n)) return { error: `Value ${i + 1} (“${p}”) is not a number` };
    values.push(n);
  }
  return { values };
}

export interface BaselineForm {
  name: string;
  mode: "values" | "sensor";
  values: string;
  sensor: string;
  from: string; // datetime-local
  to: string;
  clean: boolean;
}

export const emptyBaselineForm: BaselineForm = { name: "", mode: "sensor", values: "", sensor: "", from: "", to: "", clean: true };

export type BaselineBody =
  | { name: string; values: number[] }
  | { name: string; sensor: string; from: string; to: string; clean: boolean };

export function baselineBody(f: BaselineForm): { body: BaselineBody } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const name = f.name.trim();
  if (!name) errors.name = "Give the baseline a name";
  if (f.mode === "values") {
    const v = parseValues(f.values);
    if ("error" in v) errors.values = v.error;
    return Object.keys(errors).length || "error" in v ? { errors } : { body: { name, values: v.values } };
  }
  const sensor = f.sensor.trim();
  if (!sensor) errors.sensor = "Which sensor's history";
  const from = fromLocalInput(f.from);
  const to = fromLocalInput(f.to);
  if (!from) errors.from = "A date and time";
  if (!to) errors.to = "A date and time";
  if (from && to && Date.parse(to) <= Date.parse(from)) errors.to = "After the start";
  return Object.keys(errors).length ? { errors } : { body: { name, sensor, from, to, clean: f.clean } };
}

// How a baseline's statistics read: "576 points, mean 12.3, spread 4.56".
export function stats(b: { points: number; mean: number; std: number }): string {
  const n = (x: number) => String(Number(x.toPrecision(3)));
  return `${b.points} points, mean ${n(b.mean)}, spread ${n(b.std)}`;
}
