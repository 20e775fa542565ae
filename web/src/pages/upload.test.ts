import { describe, expect, it } from "vitest";
import { metadataOf } from "./Upload";

describe("metadataOf", () => {
  it("keeps only what was filled in, features as a list", () => {
    expect(metadataOf({ description: " Leak risk ", features: "flow, pressure,,temp ", price: "0.5", threshold: "" })).toEqual({
      metadata: { description: "Leak risk", features: ["flow", "pressure", "temp"], price_per_row: 0.5 },
      errors: {},
    });
    expect(metadataOf({ description: "", features: "", price: "", threshold: "" })).toEqual({ metadata: {}, errors: {} });
  });

  it("names the fields that are not numbers", () => {
    expect(metadataOf({ description: "", features: "", price: "-1", threshold: "high" }).errors).toEqual({
      price: "A price is 0 or more.",
      threshold: "Give a number, such as 0.5.",
    });
  });
});
