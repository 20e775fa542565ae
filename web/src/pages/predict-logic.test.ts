import { describe, expect, it } from "vitest";
import { bandOf, bandsOf, barsOf, featuresOf } from "./predict-logic";

describe("featuresOf", () => {
  it("sends empty fields as missing and names what is not a number", () => {
    expect(featuresOf(["a", "b", "c"], { a: "0.5", b: " ", c: "1e3" })).toEqual({
      features: { a: 0.5, b: null, c: 1000 },
      errors: {},
    });
    expect(featuresOf(["a"], { a: "high" }).errors).toEqual({
      "features.a": "Give a number, or leave it empty when it is missing.",
    });
  });
});

describe("bands", () => {
  const bands = bandsOf({
    bands: [{ below: 0.3, label: "low risk", color: "green" }, { below: 0.7, label: "watch" }, { label: "high risk" }, "junk"],
  });
  it("keeps well-formed bands and finds a value's", () => {
    expect(bands.map((b) => b.label)).toEqual(["low risk", "watch", "high risk"]);
    expect(bandOf(0.1, bands)?.label).toBe("low risk");
    expect(bandOf(0.3, bands)?.label).toBe("watch");
    expect(bandOf(5, bands)?.label).toBe("high risk");
    expect(bandOf(1, bandsOf({}))).toBeNull();
  });
});

describe("barsOf", () => {
  it("orders by magnitude and keeps the bias last", () => {
    expect(barsOf({ a: 0.1, b: -0.4, _bias: 0.2, c: 0.2 })).toEqual([
      { name: "b", value: -0.4, percent: 100 },
      { name: "c", value: 0.2, percent: 50 },
      { name: "a", value: 0.1, percent: 25 },
      { name: "bias", value: 0.2, percent: 50 },
    ]);
  });
});
