import { describe, expect, test } from "vitest";
import {
  defaults,
  describePreview,
  formField,
  formFromQuery,
  parseLabels,
  parseNames,
  progressOf,
  requestFrom,
  wizardLinkFor,
} from "./rollout-logic";

describe("the rollout wizard", () => {
  test("an alarm's link pre-fills: every device on that version, to the model's latest", () => {
    const link = wizardLinkFor({ name: "leak risk", version: 3 }, "update");
    expect(link).toBe("/rollouts/new?select=model&model=leak+risk&version=3&action=update&target_model=leak+risk");
    const f = formFromQuery(link.slice(link.indexOf("?")));
    expect(f).toMatchObject({ select: "model", model: "leak risk", version: "3", action: "update", target_model: "leak risk", target_version: "" });
    expect(formFromQuery("?action=blank&select=nonsense&canary_percent=0")).toMatchObject({ action: "blank", select: "model", canary_percent: "0" });
  });

  test("a form becomes the request the API takes, or errors by field", () => {
    const r = requestFrom({ ...defaults, model: "m", version: "1", target_model: "m", target_version: "2", auto_rollback: true });
    expect(r).toEqual({
      request: {
        select: { model: "m", version: 1 },
        action: "update",
        target: { model: "m", version: 2 },
        canary_percent: 10,
        batch_size: 100,
        rate_per_minute: 0,
        max_failure_percent: 5,
        min_sample: 5,
        max_alarm_percent: 0,
        device_timeout_s: 300,
        confirm_s: 30,
        auto_rollback: true,
      },
    });
    const bad = requestFrom({ ...defaults, version: "x", canary_percent: "101", batch_size: "0" });
    expect("errors" in bad && Object.keys(bad.errors).sort()).toEqual(
      ["batch_size", "canary_percent", "model", "target_model", "target_version", "version"],
    );
    const blank = requestFrom({ ...defaults, select: "devices", devices: "a, b\nc a", action: "blank" });
    expect("request" in blank && blank.request.select).toEqual({ devices: ["a", "b", "c"] });
    expect("request" in blank && blank.request.target).toBeUndefined();
    expect(requestFrom({ ...defaults, select: "all", action: "rollback" })).toHaveProperty("request.select", { all: true });
  });

  test("labels and names are read leniently, and a bad part is named", () => {
    expect(parseLabels("site=north, floor = 2")).toEqual({ labels: { site: "north", floor: "2" } });
    expect(parseLabels("site")).toEqual({ error: "“site” is not key=value" });
    expect(parseLabels(" , ")).toEqual({ error: "Give at least one key=value" });
    expect(parseNames(" a,,b  a\n")).toEqual(["a", "b"]);
  });

  test("the server's field names map to the form's", () => {
    expect(formField("target.version", defaults)).toBe("target_version");
    expect(formField("select", { ...defaults, select: "labels" })).toBe("labels");
    expect(formField("select", { ...defaults, select: "all" })).toBe("");
    expect(formField("batch_size", defaults)).toBe("batch_size");
  });

  test("a preview in words", () => {
    const p = { target: { name: "m", version: 2 }, devices: 120, skipped: 3, online: 117, waves: [2, 50, 50, 18], sample: [] };
    expect(describePreview(p, "update")).toBe(
      "It would move 120 devices to m version 2 (117 online now). 3 devices already run it and would be skipped. Waves: a canary of 2 devices, then 3 batches of up to 50.",
    );
    expect(describePreview({ ...p, devices: 0, waves: [] }, "update")).toMatch(/No device matches/);
    expect(describePreview({ ...p, target: null, devices: 1, skipped: 0, online: 0, waves: [0, 1] }, "rollback")).toBe(
      "It would move 1 device back to its previous model (0 online now). Waves: 1 batch of up to 1.",
    );
  });

  test("progress counts the devices whose part is over", () => {
    const counts = { pending: 1, sent: 1, downloading: 0, applied: 1, confirmed: 4, failed: 1, timed_out: 1, skipped: 1 };
    expect(progressOf(counts)).toEqual({ done: 7, total: 10, failed: 2 });
  });
});
