import { describe, expect, it } from "vitest";
import { describe as say, fieldErrors, problemFrom, unreachable } from "./problem";

describe("problemFrom", () => {
  it("reads a problem+json answer", () => {
    const p = problemFrom(422, {
      type: "about:blank",
      title: "Unprocessable Entity",
      status: 422,
      detail: "invalid fields",
      errors: [{ field: "password", message: "at least 8 characters" }],
    });
    expect(p.title).toBe("Some values are not valid");
    expect(p.errors).toEqual([{ field: "password", message: "at least 8 characters" }]);
    expect(say(p)).toBe("Invalid fields.");
  });

  it("copes with bodies that are not problems", () => {
    const p = problemFrom(502, "<html>bad gateway</html>");
    expect(p).toEqual({ status: 502, title: "Error 502", detail: "", errors: [] });
    expect(say(p)).toBe("Error 502.");
    expect(say(unreachable("Failed to fetch"))).toBe("The server could not be reached: Failed to fetch.");
  });
});

describe("fieldErrors", () => {
  it("puts each error next to its field and the rest on the form", () => {
    const p = problemFrom(422, {
      detail: "invalid fields",
      errors: [
        { field: "email", message: "not an email address" },
        { field: "email", message: "too long" },
        { field: "role", message: "unknown role" },
      ],
    });
    expect(fieldErrors(p, ["email", "password"])).toEqual({
      email: "Not an email address; too long",
      "": "Invalid fields. role: unknown role",
    });
  });

  it("gives a problem without fields to the form", () => {
    expect(fieldErrors(problemFrom(401, { detail: "wrong email or password" }), ["email"])).toEqual({
      "": "Wrong email or password.",
    });
    expect(fieldErrors(null, ["email"])).toEqual({});
  });

  it("gives a field a problem whose detail names it", () => {
    const p = problemFrom(403, { detail: "current_password is wrong" });
    expect(fieldErrors(p, ["current_password", "password"])).toEqual({ current_password: "Current password is wrong." });
  });
});
