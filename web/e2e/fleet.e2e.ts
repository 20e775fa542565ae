// The fleet in the console, end to end, with real processes: an admin registers a device, makes
// an enrollment code and assigns a model from the console; a real `vigil agent` enrolls with
// that code and scores rows; its alarm appears on the Alarms page live (no reload) with the
// menu's count; from the alarm, one click opens the rollout wizard pre-filled to roll the model
// forward; its preview says what it hits; the rollout completes with its progress shown live.
// Every page passes axe (WCAG A/AA) and leaves a screenshot in web/test-results/.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  type Agent,
  type Server,
  accessibilityViolations,
  adminCall,
  adminPassword,
  browserSuite,
  screenshot,
  signIn,
  startAgent,
} from "./harness";

const suite = browserSuite(10_000);
let server: Server;
let page: Page;
let agent: Agent | undefined;
const dir = mkdtempSync(join(tmpdir(), "vigil-fleet-e2e-"));
beforeAll(() => {
  ({ server, page } = suite);
});
afterAll(async () => {
  await agent?.stop(); // before the suite's server stops
  rmSync(dir, { recursive: true, force: true });
});

const menu = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: new RegExp(`^${name}`) });
const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });
async function accessible(what: string) {
  expect(await accessibilityViolations(page), what).toEqual([]);
}

// leak:1 scores a hot row (5,0,0) near 1, above its alarm threshold; leak:2 scores every row
// near 0.
async function uploadModels() {
  const models = [
    { weights: [2, 0, 0], bias: 0, link: "logistic" },
    { weights: [0, 0, 0], bias: -5, link: "logistic" },
  ];
  for (const [i, m] of models.entries()) {
    await adminCall(server, "POST", "/api/v1/models/leak/versions?kind=linear", JSON.stringify(m), {
      "Content-Type": "application/octet-stream",
      "Vigil-Metadata": JSON.stringify({ description: `fit ${i + 1}`, features: ["flow", "pressure", "temp"], alarm_threshold: 0.5 }),
    });
  }
}

test("an agent enrolled from the console alarms live, and a rollout from the alarm completes live", async () => {
  await uploadModels();
  await signIn(page, server, "admin@localhost", adminPassword);

  // Fleet: empty, says what to do; register a device.
  await menu("Fleet").click();
  await heading("Fleet").waitFor();
  await page.getByText("No devices yet").waitFor();
  await accessible("fleet, empty");
  await page.locator("summary", { hasText: "Register a device" }).click();
  await page.getByLabel("Name", { exact: true }).fill("pump-1");
  await page.getByLabel("Labels (optional)").fill("site north");
  await page.getByRole("button", { name: "Register device" }).click();
  await page.locator("#field-labels-error").getByText("is not key=value").waitFor();
  await page.getByLabel("Labels (optional)").fill("site=north");
  await page.getByRole("button", { name: "Register device" }).click();
  await page.waitForURL(/\/fleet\/pump-1\?added$/);
  await heading("pump-1").waitFor();
  await accessible("device, new");

  // Assign leak:1 and make a code, from the device's page.
  await page.getByLabel("Model", { exact: true }).fill("leak");
  await page.getByLabel("Version", { exact: true }).fill("9");
  await page.getByRole("button", { name: "Assign" }).click();
  // The server's reason (no such version), in words next to the form.
  expect(await page.locator("#field-assign-model-error, #field-assign-version-error, main [role=alert]").first().textContent()).toMatch(/version/i);
  await page.getByLabel("Version", { exact: true }).fill("1");
  await page.getByRole("button", { name: "Assign" }).click();
  await page.getByText("pump-1 is told to run leak:1.").waitFor();
  await page.getByRole("button", { name: "Make an enrollment code" }).click();
  const code = (await page.locator(".enroll-code").textContent()) ?? "";
  expect(code).toMatch(/^[A-Z0-9]{16}$/);
  expect(await page.locator(".code-box pre").textContent()).toContain(`--code ${code} --watchdog pump-1-w`);
  await accessible("device, enrollment code");
  await screenshot(page, "fleet-enrollment");

  // The agent enrolls with it: the page shows the device online and its watchdog, live.
  const rows = join(dir, "rows.csv");
  writeFileSync(rows, "flow,pressure,temp\n");
  agent = startAgent(server, code, "pump-1-w", join(dir, "agent"), rows);
  await page.locator("dd").getByText("online", { exact: true }).waitFor();
  await page.getByRole("row", { name: /pump-1-w/ }).getByText("leak:1").waitFor();

  // Alarms: none yet; the page and the menu update by themselves when the agent alarms.
  await menu("Alarms").click();
  await heading("Alarms").waitFor();
  await page.getByText("Watchdogs report alarms").waitFor();
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  appendFileSync(rows, "5,0,0\n5,0,0\n");
  const alarmRow = page.getByRole("row", { name: /pump-1/ });
  await alarmRow.getByText("new").waitFor({ timeout: 15_000 });
  expect(await alarmRow.textContent()).toMatch(/major.*leak:1/);
  await page.locator("nav .badge", { hasText: /^, 1 active$/ }).waitFor();
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await accessible("alarms, one live");
  await screenshot(page, "alarms-live");

  // One click from the alarm: the wizard rolls leak forward, to its latest version.
  await page.getByRole("link", { name: /Roll leak forward/ }).click();
  await page.waitForURL(/\/rollouts\/new\?/);
  await heading("Start a rollout").waitFor();
  expect(await page.getByLabel("Model", { exact: true }).inputValue()).toBe("leak");
  expect(await page.getByLabel("Version", { exact: true }).inputValue()).toBe("1");
  await page.getByText("It would move 1 device to leak version 2 (1 online now).").waitFor();
  expect(await page.getByLabel("Target version").inputValue()).toBe("2"); // the latest
  await page.getByText("It would move 1 device to leak version 2 (1 online now).").waitFor();
  await page.getByLabel("Confirm after (s)").fill("x");
  await page.getByRole("button", { name: "Start rollout" }).click();
  await page.locator("#field-confirm_s-error").getByText("A whole number from 0 to 86400").waitFor();
  await page.getByLabel("Confirm after (s)").fill("1");
  await page.getByText("It would move 1 device").waitFor();
  await accessible("rollout wizard");
  await screenshot(page, "rollout-wizard");
  await page.getByRole("button", { name: "Start rollout" }).click();

  // The rollout's page follows it live to the end.
  await page.waitForURL(/\/rollouts\/\d+\?started$/);
  await page.locator(".state.completed").first().waitFor({ timeout: 20_000 });
  await page.getByRole("row", { name: /pump-1/ }).getByText("confirmed").waitFor();
  expect(await page.locator("progress").first().getAttribute("value")).toBe("1");
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await accessible("rollout, completed");
  await screenshot(page, "rollout-completed");

  // The device now runs leak:2; the rollouts list shows it done.
  await menu("Rollouts").click();
  await page.getByRole("row", { name: /#1/ }).getByText("1/1").waitFor();
  await menu("Fleet").click();
  await page.getByRole("table", { name: "Devices" }).getByRole("row", { name: /pump-1/ }).getByText("leak:2").waitFor();
  await accessible("fleet, one device");
  await screenshot(page, "fleet");

  // Acknowledge, then clear, the alarm: the badge goes.
  await menu("Alarms").click();
  await page.getByRole("button", { name: /Acknowledge alarm/ }).click();
  await page.getByRole("row", { name: /pump-1/ }).getByText("acknowledged").waitFor();
  await page.locator("nav .badge").waitFor({ state: "detached" });
  await page.getByRole("button", { name: /Clear alarm/ }).click();
  await page.getByRole("row", { name: /pump-1/ }).getByText("cleared").waitFor();
}, 90_000);

test("the fleet pages in the dark theme pass axe too", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  for (const [path, title] of [["/fleet/pump-1", "pump-1"], ["/rollouts/1", /Rollout #1/], ["/alarms", "Alarms"], ["/rollouts/new", "Start a rollout"]] as const) {
    await page.goto(server.url + path);
    await heading(title).waitFor();
    await accessible(`${path}, dark`);
  }
  await page.emulateMedia({ colorScheme: "light" });
});
