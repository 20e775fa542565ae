import { describe, expect, it } from "vitest";
import { home, matchRoute, pathFor, safeNext } from "./router";

describe("matchRoute", () => {
  it("finds each page and its parameters", () => {
    expect(matchRoute("/models")).toEqual({ page: "models", params: {}, public: false });
    expect(matchRoute("/models/")).toMatchObject({ page: "models" });
    expect(matchRoute("/models/iris%20v2")).toEqual({ page: "model", params: { name: "iris v2" }, public: false });
    expect(matchRoute("/sign-in")).toMatchObject({ page: "sign-in", public: true });
    expect(matchRoute("/admin/audit")).toEqual({ page: "admin-audit", params: {}, public: false });
    expect(matchRoute("/sensors")).toEqual({ page: "sensors", params: {}, public: false });
    expect(matchRoute("/sensors/gas-1")).toEqual({ page: "sensor", params: { name: "gas-1" }, public: false });
    expect(matchRoute("/records")).toEqual({ page: "records", params: {}, public: false });
    expect(matchRoute("/records/12")).toEqual({ page: "record", params: { id: "12" }, public: false });
  });

  it("sends unknown and malformed paths to not-found", () => {
    expect(matchRoute("/models/a/b").page).toBe("not-found");
    expect(matchRoute("/nothing").page).toBe("not-found");
    expect(matchRoute("/models/%E0%A4%A").page).toBe("not-found");
  });

  it("round-trips pathFor", () => {
    const path = pathFor("model", { name: "a/b c" });
    expect(path).toBe("/models/a%2Fb%20c");
    expect(matchRoute(path).params.name).toBe("a/b c");
    expect(pathFor("predict")).toBe("/predict");
    expect(pathFor("predict", { name: "iris" })).toBe("/predict/iris");
    expect(matchRoute("/predict/iris")).toMatchObject({ page: "predict", params: { name: "iris" } });
  });
});

describe("safeNext", () => {
  it("keeps same-origin paths only", () => {
    expect(safeNext("/models/iris")).toBe("/models/iris");
    expect(safeNext(null)).toBe(home);
    expect(safeNext("https://evil.example/")).toBe(home);
    expect(safeNext("//evil.example/")).toBe(home);
    expect(safeNext("/\\evil.example")).toBe(home);
  });
});
