// Sensors in the console, end to end against a real `vigil serve`: sensors made through the API
// are listed pinned first and filter by pinned and by device; an admin pins one from the list
// and sees the server's reason when adding a taken name; a sensor's page draws the points posted
// to /api/v1/telemetry (values and levels), reads a long range as buckets, merges the events of
// `sensor:<name>` (given to the page through a routed socket, so the page's side is checked
// whatever the server sends) and, when the server sends those events itself, shows points
// posted later, the level turning critical and the detector's alarm without a reload. Both
// pages pass axe (WCAG A/AA).
import type { Page, WebSocketRoute } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import { type Server, accessibilityViolations, adminCall, adminPassword, browserSuite, paintedPixels, screenshot, signIn } from "./harness";

const suite = browserSuite(10_000);
let server: Server;
let page: Page;
beforeAll(() => {
  ({ server, page } = suite);
});

const json = { "Content-Type": "application/json" };
const heading = (name: string) => page.getByRole("heading", { level: 1, name });
const names = () => page.getByRole("table", { name: /^Sensors/ }).locator("tbody th").allTextContents();
async function accessible(what: string) {
  expect(await accessibilityViolations(page), what).toEqual([]);
}

// n points 10 s apart ending now: a wave with a little deterministic noise (levels need a scale).
function wave(n: number, endMs: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [endMs - (n - 1 - i) * 10_000, Math.round((Math.sin(i / 9) * 10 + ((i * 7919) % 13) / 10) * 100) / 100]);
}

test("the list: pinned first, filters, pinning, a taken name", async () => {
  await adminCall(server, "POST", "/api/v1/devices", JSON.stringify({ name: "pump-1" }), json);
  for (const s of [{ name: "zeta", device: "pump-1", pinned: true }, { name: "beta", unit: "ppmv" }, { name: "alpha", device: "pump-1" }]) {
    await adminCall(server, "POST", "/api/v1/sensors", JSON.stringify(s), json);
  }
  await signIn(page, server, "admin@localhost", adminPassword);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sensors" }).click();
  await heading("Sensors").waitFor();
  await expect.poll(names).toEqual(["zeta", "alpha", "beta"]);
  await accessible("sensors");

  await page.getByLabel("Pinned", { exact: true }).selectOption("true");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/\/sensors\?pinned=true$/);
  await expect.poll(names).toEqual(["zeta"]);
  await page.getByLabel("Pinned", { exact: true }).selectOption("");
  await page.getByLabel("Device", { exact: true }).fill("pump-1");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/\/sensors\?device=pump-1$/);
  await expect.poll(names).toEqual(["zeta", "alpha"]);

  // Pin beta from the list: it moves up among the pinned (by name).
  await page.goto(server.url + "/sensors");
  await page.getByRole("button", { name: "Pin beta" }).click();
  await page.getByRole("button", { name: "Unpin beta" }).waitFor();
  await expect.poll(names).toEqual(["beta", "zeta", "alpha"]);

  // The server's reason for a taken name, beside the form.
  await page.locator("summary", { hasText: "Add a sensor" }).click();
  await page.getByLabel("Name", { exact: true }).fill("ALPHA");
  await page.getByRole("button", { name: "Add sensor" }).click();
  await page.locator("#field-sensor-name-error, main [role=alert]").first().waitFor();
  expect(await page.locator("#field-sensor-name-error, main [role=alert]").first().textContent()).toMatch(/alpha|exists|taken/i);
  await accessible("sensors, add form with an error");
  await screenshot(page, "sensors");
});

test("a sensor's page draws its points and levels, and adds live ones", async () => {
  const now = Date.now();
  const body = { sensor: "beta", points: wave(800, now - 60_000) };
  expect(await adminCall(server, "POST", "/api/v1/telemetry", JSON.stringify(body), json)).toEqual({ accepted: 800 });

  await page.getByRole("link", { name: "beta" }).click();
  await heading("beta").waitFor();
  await page.getByText("Last 24 hours: 800 points with their levels.").waitFor();
  await page.locator(".chart canvas").waitFor();
  await page.locator(".chart .u-legend").getByText("Level (% of baseline)").waitFor();
  // Drawn: the canvas has painted pixels.
  const painted = await paintedPixels(page.locator(".chart canvas"));
  expect(painted).toBeGreaterThan(1000);
  expect(await page.locator(".level-now .level").textContent()).toMatch(/^(ok|warning|critical)$/);
  await accessible("sensor");
  await screenshot(page, "sensor");

  // Live points need the server's sensor events: ask it directly, from the page's session.
  const sends = await page.evaluate(
    () =>
      new Promise<boolean>((ok) => {
        const ws = new WebSocket(`ws://${location.host}/api/v1/ws/events`);
        const done = (v: boolean) => {
          ws.close();
          ok(v);
        };
        ws.onopen = () => ws.send(JSON.stringify({ type: "subscribe", topics: ["sensor:beta"] }));
        ws.onmessage = (m) => {
          const e = JSON.parse(String(m.data)) as { type: string; event?: { kind?: string } };
          if (e.type === "event" && e.event?.kind === "points") done(true);
        };
        setTimeout(() => done(false), 2000);
      }),
  );
  if (!sends) {
    console.warn("sensors.e2e: this server sends no sensor:<name> events; the live point is not checked");
  } else {
    // A burst far off the wave, after it: live points, the level turns critical and the
    // detector's alarm shows, all without a reload.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const burst = Array.from({ length: 20 }, (_, i) => [now - 40_000 + i * 2_000, 50 + i]);
    await adminCall(server, "POST", "/api/v1/telemetry", JSON.stringify({ sensor: "beta", points: burst }), json);
    await page.getByText("Last 24 hours: 820 points with their levels. 20 live points added.").waitFor();
    await page.locator(".level-now .level", { hasText: /^critical$/ }).waitFor();
    await page.getByRole("table", { name: /Detector alarms of beta/ }).getByText("critical").waitFor();
    await page.locator(".chart [role=img][aria-label$='; 1 detector alarm.']").waitFor();
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await accessible("sensor, live, critical, with an alarm");
    await screenshot(page, "sensor-alarm");
  }

  // A long range reads levels or buckets as its count says: 800 points get their levels; 60 000
  // (a point a second) are drawn as buckets, and the page says so.
  await page.getByLabel("Range").selectOption("7d");
  await page.waitForURL(/range=7d/);
  await page.getByText(/^Last 7 days: 8[02]0 points with their levels/).waitFor();
  await adminCall(server, "POST", "/api/v1/sensors", JSON.stringify({ name: "dense" }), json);
  const dense = Array.from({ length: 60_000 }, (_, i) => [now - (60_000 - i) * 1000, i % 100]);
  await adminCall(server, "POST", "/api/v1/telemetry", JSON.stringify({ sensor: "dense", points: dense }), json);
  await page.goto(server.url + "/sensors/dense?range=all");
  await page.getByText(/^All: The average per \d+m bucket, \d+ buckets: this range holds 60,000 points/).waitFor();
  // The badge still has the newest level (read from the last hour).
  await page.locator(".level-now").getByText(/value \d+ at /).waitFor();
  await page.locator(".chart .u-legend").getByText("Average").waitFor();
  await page.getByLabel("Buckets show").selectOption("max");
  await page.getByText(/^All: The maximum per \d+m bucket/).waitFor();
  await screenshot(page, "sensor-buckets");
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(server.url + "/sensors/beta");
  await heading("beta").waitFor();
  await page.locator(".chart canvas").waitFor();
  await accessible("sensor, dark");
  await page.emulateMedia({ colorScheme: "light" });
});

test("live events of a sensor: the history frame, an overlapping batch and a level change", async () => {
  // The page's socket goes through this route to the server; frames are added toward the page.
  let socket: WebSocketRoute | null = null;
  await page.routeWebSocket(/\/api\/v1\/ws\/events$/, (ws) => {
    const srv = ws.connectToServer();
    ws.onMessage((m) => {
      srv.send(m);
      if (String(m).includes('"sensor:alpha"')) socket = ws;
    });
  });
  await page.goto(server.url + "/sensors/alpha");
  await heading("alpha").waitFor();
  await page.getByText("Last 24 hours: 0 points with their levels.").waitFor();
  await expect.poll(() => socket !== null, { timeout: 10_000 }).toBe(true);
  const t = Date.now() - 60_000;
  const pt = (i: number, value: number, level: string, percent: number | null) => ({ at: new Date(t + i * 10_000).toISOString(), value, level, percent });
  const frame = (event: object) =>
    socket!.send(JSON.stringify({ type: "event", seq: 1, topic: "sensor:alpha", at: new Date().toISOString(), event: { sensor: "alpha", ...event } }));
  frame({ kind: "points", history: true, points: [pt(0, 1, "undefined", null), pt(1, 2, "ok", 40), pt(2, 3, "ok", 60)] });
  await page.getByText("Last 24 hours: 3 points with their levels.").waitFor();
  await page.locator(".chart canvas").waitFor();
  frame({ kind: "points", history: false, points: [pt(2, 3, "ok", 60), pt(3, 9, "critical", 250)] });
  frame({ kind: "level", ...pt(3, 9, "critical", 250), previous: "ok" });
  await page.getByText("Last 24 hours: 4 points with their levels. 2 live points added.").waitFor();
  expect(await page.locator(".level-now .level").textContent()).toBe("critical");
  await accessible("sensor, live, critical");
  await screenshot(page, "sensor-live");
  await page.unrouteAll();
});

test("an admin changes a sensor's detector; the server's reasons show beside the fields", async () => {
  await page.goto(server.url + "/sensors/zeta");
  await heading("zeta").waitFor();
  await page.locator("summary", { hasText: "Change the detector" }).click();
  await page.getByLabel("Critical from (%)").fill("50");
  await page.getByRole("button", { name: "Save detector" }).click();
  await page.locator("#field-detector-critical-error").getByText("At least the warning percent").waitFor();
  await page.getByLabel("Critical from (%)").fill("300");
  await page.getByLabel("Window (points)").fill("1"); // below the server's minimum
  await page.getByRole("button", { name: "Save detector" }).click();
  await page.locator("#field-detector-window-error").waitFor();
  await accessible("sensor, detector form with an error");
  await page.getByLabel("Window (points)").fill("100");
  await page.getByRole("button", { name: "Save detector" }).click();
  await page.getByText(/^Saved/).waitFor();
  await page.getByText("window 100 points").waitFor();
  await page.getByText("critical from 300 %", { exact: false }).waitFor();
});

test("baselines: the library, an admin adds one from values, a sensor selects one", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Baselines" }).click();
  await heading("Baselines").waitFor();
  await page.locator("summary", { hasText: "Add a baseline" }).click();
  await page.getByLabel("Name", { exact: true }).fill("calm");
  await page.getByLabel("values", { exact: true }).check();
  await page.getByLabel("Values", { exact: true }).fill("1, 2, x");
  await page.getByRole("button", { name: "Add baseline" }).click();
  await page.locator("#field-baseline-values-error").getByText("Value 3 (“x”) is not a number").waitFor();
  const wave = Array.from({ length: 600 }, (_, i) => (Math.sin(i / 9) * 10).toFixed(2)).join(", ");
  await page.getByLabel("Values", { exact: true }).fill(wave);
  await page.getByRole("button", { name: "Add baseline" }).click();
  await page.getByText("The baseline calm was added.").waitFor();
  await page.getByRole("table", { name: "Baselines" }).getByRole("row", { name: /calm/ }).getByText(/600 points/).waitFor();
  await accessible("baselines");
  await screenshot(page, "baselines");

  // The server's reasons: too few values (beside them), then a taken name.
  await page.getByLabel("Name", { exact: true }).fill("calm");
  await page.getByLabel("values", { exact: true }).check();
  await page.getByLabel("Values", { exact: true }).fill("1 2 3");
  await page.getByRole("button", { name: "Add baseline" }).click();
  await page.locator("#field-baseline-values-error").getByText(/16 to/).waitFor();
  await page.getByLabel("Values", { exact: true }).fill(wave);
  await page.getByRole("button", { name: "Add baseline" }).click();
  await page.locator("#field-baseline-name-error, main [role=alert]").getByText(/calm|exists/i).first().waitFor();

  await page.goto(server.url + "/sensors/beta");
  await heading("beta").waitFor();
  await page.getByRole("heading", { name: "Baseline", exact: true }).waitFor();
  await page.getByRole("button", { name: "Select a baseline now" }).click();
  await page.locator("section[aria-labelledby=baseline-heading]").getByText(/A baseline was selected|No library baseline fits|history|library/i).first().waitFor();
  await accessible("sensor, baseline selection");
  await screenshot(page, "sensor-baseline");
});
