import { describe, expect, test } from "vitest";
import { baselineBody, emptyBaselineForm, parseValues, stats } from "./baseline-logic";

describe("the baseline form", () => {
  test("values typed or pasted, separated any usual way", () => {
    expect(parseValues("1.5, 2\n3;4  -5e-1")).toEqual({ values: [1.5, 2, 3, 4, -0.5] });
    expect(parseValues("  ")).toEqual({ error: "Give at least one value" });
    expect(parseValues("1, x, 3")).toEqual({ error: "Value 2 (“x”) is not a number" });
    expect(parseValues("1, Infinity")).toEqual({ error: "Value 2 (“Infinity”) is not a number" });
  });

  test("values or a sensor's range to the body, errors by field as the API names them", () => {
    expect(baselineBody({ ...emptyBaselineForm, name: " calm ", mode: "values", values: "1 2 3" })).toEqual({ body: { name: "calm", values: [1, 2, 3] } });
    expect(baselineBody({ ...emptyBaselineForm, mode: "values", values: "a" })).toEqual({
      errors: { name: "Give the baseline a name", values: "Value 1 (“a”) is not a number" },
    });
    const cut = baselineBody({ ...emptyBaselineForm, name: "b", sensor: "gas-1", from: "2026-01-01T00:00", to: "2026-01-05T00:00", clean: false });
    expect(cut).toMatchObject({ body: { name: "b", sensor: "gas-1", clean: false } });
    if ("body" in cut && "from" in cut.body) {
      expect(Date.parse(cut.body.to) - Date.parse(cut.body.from)).toBe(4 * 86_400_000);
    }
    expect(baselineBody({ ...emptyBaselineForm, name: "b", sensor: "", from: "2026-01-05T00:00", to: "2026-01-01T00:00" })).toEqual({
      errors: { sensor: "Which sensor's history", to: "After the start" },
    });
    expect(baselineBody({ ...emptyBaselineForm, name: "b", sensor: "s" })).toEqual({ errors: { from: "A date and time", to: "A date and time" } });
  });

  test("statistics read short", () => {
    expect(stats({ points: 576, mean: 12.3456, std: 4.5678 })).toBe("576 points, mean 12.3, spread 4.57");
  });
});
