import { describe, expect, it } from "vitest";
import { buildUrl, call, getText, sessionEnded, setUnauthorizedHandler } from "./client";
import { problemFrom } from "./problem";

function fakeFetch(status: number, body: string, seen: { url?: string; init?: RequestInit } = {}): typeof fetch {
  return (async (url: string, init?: RequestInit) => {
    seen.url = url;
    if (init) seen.init = init;
    return new Response(body || null, { status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
}

describe("buildUrl", () => {
  it("encodes path parameters and drops empty query values", () => {
    expect(buildUrl("/api/v1/models/{name}/versions/{v}", { name: "a b/c", v: 3 })).toBe(
      "/api/v1/models/a%20b%2Fc/versions/3",
    );
    expect(buildUrl("/api/v1/models", undefined, { limit: 5, cursor: undefined, q: "" })).toBe("/api/v1/models?limit=5");
    expect(() => buildUrl("/api/v1/models/{name}", {})).toThrow(/needs the parameter name/);
  });
});

describe("call", () => {
  it("sends writes as JSON with the CSRF header and the session cookie", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const r = await call(
      "post",
      "/api/v1/auth/login",
      { body: { email: "a@b.c", password: "secret-123" } },
      fakeFetch(200, '{"token":"t"}', seen),
    );
    expect(r.ok).toBe(true);
    const headers = seen.init?.headers as Record<string, string>;
    expect(headers["Vigil-CSRF"]).toBe("1");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(seen.init?.credentials).toBe("same-origin");
    expect(seen.init?.body).toBe('{"email":"a@b.c","password":"secret-123"}');
  });

  it("sends reads without the CSRF header and turns failures into problems", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const r = await call(
      "get",
      "/api/v1/models/{name}",
      { path: { name: "iris" } },
      fakeFetch(404, '{"status":404,"detail":"no such model"}', seen),
    );
    expect(seen.url).toBe("/api/v1/models/iris");
    expect((seen.init?.headers as Record<string, string>)["Vigil-CSRF"]).toBeUndefined();
    expect(r).toEqual({ ok: false, problem: { status: 404, title: "Not found", detail: "no such model", errors: [] } });

    const down = await call("get", "/api/v1/auth/me", {}, (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch);
    expect(down.ok ? null : down.problem.status).toBe(0);
  });
});

describe("the end of a session", () => {
  it("is a 401 or an expired token's 403, and tells the shell", async () => {
    expect(sessionEnded(problemFrom(401, {}))).toBe(true);
    expect(sessionEnded(problemFrom(403, { detail: "the token has expired; sign in again" }))).toBe(true);
    expect(sessionEnded(problemFrom(403, { detail: "the user role may not do this (users.read)" }))).toBe(false);
    let told = 0;
    setUnauthorizedHandler(() => told++);
    await call("get", "/api/v1/models", {}, fakeFetch(401, "{}"));
    await call("post", "/api/v1/auth/login", { body: { email: "a", password: "b" } }, fakeFetch(401, "{}"));
    setUnauthorizedHandler(null);
    expect(told).toBe(1); // a failed sign-in is not the end of a session
  });
});

describe("getText", () => {
  it("answers the text, or the problem", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    expect(await getText("/metrics", fakeFetch(200, "vigil_up 1\n", seen))).toEqual({ ok: true, data: "vigil_up 1\n", status: 200 });
    expect(seen.url).toBe("/metrics");
    const r = await getText("/metrics", fakeFetch(503, '{"status":503,"detail":"not ready"}'));
    expect(r).toMatchObject({ ok: false, problem: { status: 503, detail: "not ready" } });
  });
});
