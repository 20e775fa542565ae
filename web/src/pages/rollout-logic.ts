// The rollout wizard's logic, free of the DOM: its form as text fields, the form a link fills in
// (from an alarm: roll that model forward, back, or to blank), the request it makes, and words
// for a preview and for counts.
import type { RolloutPreview, RolloutRequest } from "../api/client";

export type SelectKind = "model" | "labels" | "devices" | "all";
export type Action = "update" | "rollback" | "blank";

export interface WizardForm {
  select: SelectKind;
  model: string; // select by model: name and version
  version: string;
  labels: string; // "site=north, floor=2"
  devices: string; // names separated by commas, spaces or lines
  action: Action;
  target_model: string;
  target_version: string; // "" = the model's latest
  canary_percent: string;
  batch_size: string;
  rate_per_minute: string;
  max_failure_percent: string;
  min_sample: string;
  max_alarm_percent: string;
  device_timeout_s: string;
  confirm_s: string;
  auto_rollback: boolean;
}

// The server's defaults (docs/http/fleet.md), so what the form shows is what happens.
export const defaults: WizardForm = {
  select: "model",
  model: "",
  version: "",
  labels: "",
  devices: "",
  action: "update",
  target_model: "",
  target_version: "",
  canary_percent: "10",
  batch_size: "100",
  rate_per_minute: "0",
  max_failure_percent: "5",
  min_sample: "5",
  max_alarm_percent: "0",
  device_timeout_s: "300",
  confirm_s: "30",
  auto_rollback: false,
};

const numeric = [
  "canary_percent",
  "batch_size",
  "rate_per_minute",
  "max_failure_percent",
  "min_sample",
  "max_alarm_percent",
  "device_timeout_s",
  "confirm_s",
] as const;
type NumericField = (typeof numeric)[number];

const limits: Record<NumericField, [number, number]> = {
  canary_percent: [0, 100],
  batch_size: [1, 100000],
  rate_per_minute: [0, 1000000],
  max_failure_percent: [0, 100],
  min_sample: [1, 100000],
  max_alarm_percent: [0, 100],
  device_timeout_s: [1, 604800],
  confirm_s: [0, 86400],
};

// The form a wizard link asks for: ?select=&model=&version=&labels=&devices=&action=&target_model=
// &target_version= and any limit; unknown or bad values keep the default.
export function formFromQuery(search: string): WizardForm {
  const q = new URLSearchParams(search);
  const f: WizardForm = { ...defaults };
  const sel = q.get("select");
  if (sel === "model" || sel === "labels" || sel === "devices" || sel === "all") f.select = sel;
  const action = q.get("action");
  if (action === "update" || action === "rollback" || action === "blank") f.action = action;
  for (const k of ["model", "version", "labels", "devices", "target_model", "target_version", ...numeric] as const) {
    const v = q.get(k);
    if (v !== null) f[k] = v;
  }
  if (q.get("auto_rollback") === "true") f.auto_rollback = true;
  if (!f.target_model && f.select === "model") f.target_model = f.model;
  return f;
}

// The wizard's link for rolling the model an alarm is about forward (to its latest version), back
// (each device to its previous model) or to blank, on every device that runs that version.
export function wizardLinkFor(model: { name: string; version: number }, action: Action): string {
  const q = new URLSearchParams({ select: "model", model: model.name, version: String(model.version), action });
  if (action === "update") q.set("target_model", model.name);
  return `/rollouts/new?${q.toString()}`;
}

// "site=north, floor=2" → {site: "north", floor: "2"}; null names the first bad part.
export function parseLabels(text: string): { labels: Record<string, string> } | { error: string } {
  const labels: Record<string, string> = {};
  for (const part of text.split(/[,\n]/)) {
    const p = part.trim();
    if (!p) continue;
    const at = p.indexOf("=");
    if (at <= 0) return { error: `“${p}” is not key=value` };
    labels[p.slice(0, at).trim()] = p.slice(at + 1).trim();
  }
  if (Object.keys(labels).length === 0) return { error: "Give at least one key=value" };
  return { labels };
}

export function parseNames(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

// The request of a form, or the errors by field (the form's own field names).
export function requestFrom(f: WizardForm): { request: RolloutRequest } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  let select: RolloutRequest["select"] = {};
  if (f.select === "model") {
    if (!f.model.trim()) errors.model = "Name the model the devices run";
    const v = Number(f.version);
    if (!/^\d+$/.test(f.version.trim()) || v < 1) errors.version = "A version number, 1 or more";
    select = { model: f.model.trim(), version: v };
  } else if (f.select === "labels") {
    const l = parseLabels(f.labels);
    if ("error" in l) errors.labels = l.error;
    else select = { labels: l.labels };
  } else if (f.select === "devices") {
    const names = parseNames(f.devices);
    if (names.length === 0) errors.devices = "Name at least one device";
    select = { devices: names };
  } else {
    select = { all: true };
  }
  const request: RolloutRequest = { select, action: f.action };
  if (f.action === "update") {
    if (!f.target_model.trim()) errors.target_model = "Name the model to move to";
    if (!/^\d+$/.test(f.target_version.trim()) || Number(f.target_version) < 1) {
      errors.target_version = "Choose the version to move to";
    }
    request.target = { model: f.target_model.trim(), version: Number(f.target_version) };
  }
  for (const k of numeric) {
    const [lo, hi] = limits[k];
    const text = f[k].trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < lo || n > hi) errors[k] = `A whole number from ${lo} to ${hi}`;
    else request[k] = n;
  }
  request.auto_rollback = f.auto_rollback;
  return Object.keys(errors).length ? { errors } : { request };
}

// The server names fields as the request does ("select", "target", "target.version",
// "canary_percent"); the form's field for each.
export function formField(serverField: string, f: WizardForm): string {
  if (serverField.startsWith("target")) return serverField.endsWith("model") ? "target_model" : "target_version";
  if (serverField.startsWith("select")) return f.select === "all" ? "" : f.select === "model" ? "model" : f.select;
  return serverField;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// The preview in a sentence or two.
export function describePreview(p: RolloutPreview, action: Action): string {
  if (p.devices === 0) return "No device matches this selection now: the rollout would complete at once.";
  const to =
    action === "rollback"
      ? "back to its previous model"
      : p.target
        ? `to ${p.target.name} version ${p.target.version}`
        : "";
  const parts = [`It would move ${plural(p.devices, "device")} ${to} (${p.online} online now).`];
  if (p.skipped) {
    parts.push(
      action === "rollback"
        ? `${plural(p.skipped, "device")} would be skipped: already there or nothing to go back to.`
        : `${plural(p.skipped, "device")} already ${p.skipped === 1 ? "runs" : "run"} it and would be skipped.`,
    );
  }
  const [canary = 0, ...batches] = p.waves;
  const waves: string[] = [];
  if (canary) waves.push(`a canary of ${plural(canary, "device")}`);
  if (batches.length) waves.push(`${plural(batches.length, "batch", "batches")} of up to ${Math.max(...batches)}`);
  if (waves.length) parts.push(`Waves: ${waves.join(", then ")}.`);
  return parts.join(" ");
}

export const deviceStates = [
  "pending",
  "sent",
  "downloading",
  "applied",
  "confirmed",
  "failed",
  "timed_out",
  "skipped",
] as const;
export type DeviceState = (typeof deviceStates)[number];

// How far a rollout is: devices whose part is over (confirmed, failed, timed out, skipped) of all.
export function progressOf(counts: Record<DeviceState, number>): { done: number; total: number; failed: number } {
  const total = deviceStates.reduce((n, s) => n + counts[s], 0);
  const failed = counts.failed + counts.timed_out;
  return { done: counts.confirmed + counts.skipped + failed, total, failed };
}
