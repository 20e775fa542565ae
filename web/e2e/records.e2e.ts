// Sleep records in the console, end to end against a real `vigil serve`: users alice and bob get
// the usernames their files carry (given by an admin, POST /api/v1/users); bob's night is uploaded through the API, then an admin uploads a
// file the server refuses (its reason shows) and alice's night from the Records page, filters by
// user (in the URL) and sees a filter's error beside its field; alice's record shows its fields,
// its hypnogram and a signal viewer that reads downsampled ranges: zoom (buttons, keys, a
// dragged stretch) asks for fewer samples a point, down to every sample, and pan moves the
// range. Each page state passes axe (light and dark). Last, the admin deletes the record.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import { type Server, accessibilityViolations, adminCall, adminPassword, browserSuite, paintedPixels, screenshot, signIn } from "./harness";

const suite = browserSuite(15_000);
let server: Server;
let page: Page;
beforeAll(() => {
  ({ server, page } = suite);
});

const data = resolve(dirname(fileURLToPath(import.meta.url)), "../../tests/data/records");
const json = { "Content-Type": "application/json" };
const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });
const rows = () => page.getByRole("table", { name: "Sleep records, newest first" }).locator("tbody tr");
const users = () => page.getByRole("table", { name: "Sleep records, newest first" }).locator("tbody td:nth-child(2)").allTextContents();
async function accessible(what: string) {
  expect(await accessibilityViolations(page), what).toEqual([]);
}

// An account whose username is `name`, as an admin makes it.
async function account(name: string) {
  const u = await adminCall(server, "POST", "/api/v1/users",
    JSON.stringify({ email: `${name}@example.com`, password: `${name}-password-1`, role: "user", username: name }), json);
  expect(u.username).toBe(name);
}

// The step of the last signal answer, as the page says it: 1 for "every sample".
async function shownStep(): Promise<number> {
  const text = (await page.locator(".signal-step").textContent()) ?? "";
  return text === "every sample" ? 1 : Number(text.replace(/[^\d]/g, ""));
}

// Waits until the page shows a step below `than` (the answer to the newest range has come).
async function stepBelow(than: number): Promise<number> {
  await expect.poll(shownStep, { timeout: 10_000 }).toBeLessThan(than);
  await page.getByText("Loading the new range…").waitFor({ state: "detached" });
  return shownStep();
}

test("the list: an upload, a refused file, filters in the URL", async () => {
  await account("alice");
  await account("bob");
  const bob = await fetch(`${server.url}/api/v1/records?name=bob1.h5`, {
    method: "POST",
    headers: { Authorization: "Basic " + Buffer.from(`admin@localhost:${adminPassword}`).toString("base64"),
      "Content-Type": "application/octet-stream" },
    body: readFileSync(join(data, "record_bob_night1.h5")),
  });
  expect(bob.status, await bob.clone().text()).toBe(201);

  await signIn(page, server, "admin@localhost", adminPassword);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Records" }).click();
  await heading("Records").waitFor();
  await expect.poll(users).toEqual(["bob"]);
  await accessible("records");

  // A file without a device attribute: the server's reason, beside the form.
  await page.locator("summary", { hasText: "Upload a record" }).click();
  const file = page.getByLabel("Record file (HDF5)");
  await file.setInputFiles(join(data, "bad_missing_attrs.h5"));
  await page.getByRole("button", { name: "Upload record" }).click();
  await page.getByRole("alert").filter({ hasText: /attribute device is missing/i }).waitFor();
  await accessible("records, a refused upload");
  await screenshot(page, "records-refused");

  // Alice's night: stored, linked, listed first.
  await file.setInputFiles(join(data, "record_alice_night1.h5"));
  await page.getByRole("button", { name: "Upload record" }).click();
  const stored = page.getByRole("status").filter({ hasText: /^Stored as record #\d+/ });
  await stored.waitFor({ timeout: 20_000 });
  expect(await stored.textContent()).toMatch(/alice's night of .* on /);
  await expect.poll(users).toEqual(["alice", "bob"]);
  expect(await rows().first().locator("td").last().textContent()).toBe("record_alice_night1.h5");

  // The same file again: 409, naming the record.
  await page.getByRole("button", { name: "Upload record" }).click();
  await page.getByRole("alert").filter({ hasText: /stored already/i }).waitFor();

  // Filters go to the URL, and from it.
  await page.getByLabel("User", { exact: true }).fill("alice");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/\/records\?user=alice$/);
  await expect.poll(users).toEqual(["alice"]);
  await page.goto(server.url + "/records?user=bob");
  await heading("Records").waitFor();
  await expect.poll(users).toEqual(["bob"]);
  expect(await page.getByLabel("User", { exact: true }).inputValue()).toBe("bob");
  await page.goto(server.url + "/records?user=bob&min_score=1000");
  await page.getByRole("heading", { name: "No record matches" }).waitFor();

  // A time the server cannot read: its 422 names the field, and the message sits beside it.
  await page.goto(server.url + "/records?from=yesterday");
  await page.locator("#field-from-error").filter({ hasText: /RFC 3339/ }).waitFor();
  expect(await page.getByLabel("Starting from").getAttribute("aria-invalid")).toBe("true");
  await accessible("records, the server's error by a filter");
  // A score that is not a number: said by its field without asking.
  await page.goto(server.url + "/records");
  await heading("Records").waitFor();
  await page.getByLabel("Score at least").fill("lots");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/min_score=lots/);
  await page.locator("#field-min_score-error").filter({ hasText: /number/ }).waitFor();
  expect(await page.getByLabel("Score at least").getAttribute("aria-invalid")).toBe("true");
  await page.goto(server.url + "/records");
  await expect.poll(users).toEqual(["alice", "bob"]);
  await screenshot(page, "records");
});

test("a record: fields, hypnogram, a signal zoomed and panned, deleted", async () => {
  const signals: URL[] = [];
  page.on("request", (r) => {
    if (/\/signals\/[^/?]+\?/.test(r.url())) signals.push(new URL(r.url()));
  });
  await page.goto(server.url + "/records?user=alice");
  await page.getByRole("link", { name: /^Record #\d+$/ }).click();
  await heading(/^Record #\d+$/).waitFor();
  const main = page.locator("main");
  await main.getByText("Dreempy version").waitFor();
  await page.getByRole("table", { name: "Time in each stage" }).getByText("REM").waitFor();
  await page.getByRole("table", { name: "Every attribute of the file" }).getByText("sleep_score", { exact: true }).waitFor();

  // The hypnogram: a step line and its text alternative.
  const hypnogram = page.getByRole("img", { name: /^Hypnogram of \d+ epochs of 30 s/ });
  await hypnogram.waitFor();
  expect(((await page.locator(".hypnogram path.line").getAttribute("d")) ?? "").split("L").length).toBeGreaterThan(10);
  await page.locator("summary", { hasText: "The hypnogram as a table" }).click();
  await page.getByRole("table", { name: "Stretches of one stage, in time order" }).locator("tbody tr").first().waitFor();

  // The signal viewer on F7_O1: the whole night, many samples a point.
  await page.getByLabel("Channel").selectOption("F7_O1");
  await page.waitForURL(/\?channel=F7_O1$/);
  await page.getByRole("status").filter({ hasText: /^F7_O1, .*the whole night\)/ }).waitFor();
  await page.locator(".signal-chart canvas").waitFor();
  const whole = await shownStep();
  expect(whole).toBeGreaterThan(10);
  const asked = signals.filter((u) => u.pathname.endsWith("/F7_O1"));
  expect(Number(asked.at(-1)!.searchParams.get("max_points"))).toBeGreaterThan(300);
  const painted = await paintedPixels(page.locator(".signal-chart canvas"));
  expect(painted).toBeGreaterThan(1000);
  await accessible("record");

  // Zoom in: half the range, half the samples a point.
  await page.getByRole("button", { name: "Zoom in" }).click();
  const zoomed = await stepBelow(whole);
  expect(zoomed).toBeLessThanOrEqual(Math.ceil(whole / 2) + 1);
  const last = () => signals.at(-1)!;
  const span = (u: URL) => Number(u.searchParams.get("to")) - Number(u.searchParams.get("from"));
  const zoomFrom = Number(last().searchParams.get("from"));
  expect(span(last())).toBeLessThan(span(asked.at(-1)!));

  // Pan later: the same span, further on.
  await page.getByRole("button", { name: "Later →" }).click();
  await expect.poll(() => Number(last().searchParams.get("from"))).toBeGreaterThan(zoomFrom);
  await page.getByText("Loading the new range…").waitFor({ state: "detached" });
  expect(Math.abs((await shownStep()) - zoomed)).toBeLessThanOrEqual(1);
  const panned = Number(last().searchParams.get("from"));
  await page.locator(".signal-plot").focus();
  await page.keyboard.press("ArrowLeft");
  await expect.poll(() => Number(last().searchParams.get("from"))).toBeLessThan(panned);

  // Keys zoom on to every sample; a burst of presses reads only the last range (debounced).
  const before = signals.length;
  for (let i = 0; i < 10; i++) await page.keyboard.press("+");
  await page.locator(".signal-step", { hasText: "every sample" }).waitFor();
  expect(signals.length - before).toBeLessThan(5);
  await accessible("record, every sample");
  await screenshot(page, "record-samples");

  // Back to the whole night, then drag across a fifth of the plot: about a fifth of the step.
  await page.getByRole("button", { name: "Whole night" }).click();
  await page.getByRole("status").filter({ hasText: /the whole night\)/ }).waitFor();
  expect(await shownStep()).toBe(whole);
  const box = (await page.locator(".signal-chart .u-over").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const dragged = await stepBelow(whole);
  expect(dragged).toBeLessThan(whole / 3);
  await screenshot(page, "record");

  await page.emulateMedia({ colorScheme: "dark" });
  await page.reload();
  await page.locator(".signal-chart canvas").waitFor();
  await page.locator(".signal-step").waitFor();
  await accessible("record, dark");
  await screenshot(page, "record-dark");
  await page.goto(server.url + "/records");
  await heading("Records").waitFor();
  await rows().first().waitFor();
  await accessible("records, dark");
  await page.emulateMedia({ colorScheme: "light" });

  // Delete, after a confirmation.
  await page.goto(server.url + "/records?user=alice");
  await page.getByRole("link", { name: /^Record #\d+$/ }).click();
  await page.getByRole("button", { name: "Delete this record" }).click();
  await page.getByRole("button", { name: /^Yes, delete record #\d+$/ }).click();
  await page.waitForURL(/\/records$/);
  await expect.poll(users).toEqual(["bob"]);
});
