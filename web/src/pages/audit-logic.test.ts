import { describe, expect, it } from "vitest";
import { anyFilter, apiQuery, filtersFrom, formatLatency, fromLocalInput, noFilters, searchOf, toLocalInput } from "./audit-logic";

describe("filters and the URL", () => {
  it("reads the filters from a query and ignores the rest", () => {
    expect(filtersFrom("?status=201&method=POST&cursor=x&path_prefix=%2Fapi%2Fv1%2Fusers")).toEqual({
      ...noFilters,
      status: "201",
      method: "POST",
      path_prefix: "/api/v1/users",
    });
    expect(anyFilter(filtersFrom(""))).toBe(false);
  });

  it("writes only the filters that are set, in a fixed order", () => {
    expect(searchOf({ ...noFilters, status: " 201 ", user: "ada@example.com" })).toBe("?user=ada%40example.com&status=201");
    expect(searchOf(noFilters)).toBe("");
    const f = { ...noFilters, method: "DELETE", since: "2026-05-01T00:00:00Z" };
    expect(filtersFrom(searchOf(f))).toEqual(f);
  });

  it("sends the API only the filters that are set", () => {
    expect(apiQuery({ ...noFilters, status: "201" })).toEqual({ status: "201" });
  });
});

describe("date-times", () => {
  it("turns the API's times into the input's and back", () => {
    const local = toLocalInput("2026-05-01T12:30:00Z");
    expect(local).toMatch(/^2026-05-0[12]T\d\d:\d\d$/); // in the browser's zone, whole minutes
    expect(fromLocalInput(local)).toBe("2026-05-01T12:30:00Z");
    expect(fromLocalInput(toLocalInput("2026-05-01T12:30:15Z"))).toBe("2026-05-01T12:30:15Z");
    expect(fromLocalInput(toLocalInput("1777638600000"))).toBe("2026-05-01T12:30:00Z"); // epoch ms
  });

  it("leaves what is not a time empty", () => {
    expect(toLocalInput("yesterday")).toBe("");
    expect(toLocalInput("")).toBe("");
    expect(fromLocalInput("")).toBe("");
  });
});

describe("formatLatency", () => {
  it("picks a unit", () => {
    expect(formatLatency(37)).toBe("37 µs");
    expect(formatLatency(1500)).toBe("1.5 ms");
    expect(formatLatency(2_340_000)).toBe("2.34 s");
  });
});
