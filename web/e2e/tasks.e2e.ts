// Tasks and credits in the console against a real `vigil serve` with its own task workers: an admin
// tops up a user on the Credits page; the user runs a prediction as a task from the Predict form,
// follows it to done on its page (the band, the cost charged), finds it in the history and the
// charge in the ledger; a task they cannot pay for is refused in words. axe (WCAG A/AA) on every
// page, a screenshot per test.
import type { Page } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import { type Server, accessibilityViolations, adminCall, adminPassword, browserSuite, screenshot, signIn } from "./harness";

const suite = browserSuite(10_000);
let server: Server;
let page: Page;
beforeAll(async () => {
  ({ server, page } = suite);
  await adminCall(server, "POST", "/api/v1/models/risk/versions?kind=linear",
    JSON.stringify({ weights: [2], bias: 1, link: "identity" }), {
      "Content-Type": "application/octet-stream",
      "Vigil-Metadata": JSON.stringify({
        features: ["x"],
        price_per_row: 0.5,
        bands: [{ below: 5, label: "low", color: "green" }, { label: "high", color: "red" }],
      }),
    });
  const r = await fetch(server.url + "/api/v1/auth/register", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: "ada@example.com", password: "ada-password-1" }),
  });
  expect(r.status).toBe(201);
});

const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });
const menu = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });
async function accessible(what: string) {
  expect(await accessibilityViolations(page), what).toEqual([]);
}

test("an admin tops up a user; the user runs a task from Predict and sees it charged once", async () => {
  await signIn(page, server, "admin@localhost", adminPassword);
  await menu("Credits").click();
  await heading("Credits").waitFor();
  await page.getByText("Top up or correct a user’s credits").click();
  await page.getByLabel("User").selectOption({ label: "ada@example.com" });
  await page.getByLabel("Amount").fill("1");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.locator("#field-reason-error").waitFor(); // a reason is required, said next to it
  await page.getByLabel("Reason").fill("welcome");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("Done: the balance is now 1.").waitFor();
  await accessible("credits, admin");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in/);

  await signIn(page, server, "ada@example.com", "ada-password-1");
  await menu("Predict").click();
  await page.getByLabel("Model").selectOption("risk");
  await page.getByLabel("x", { exact: true }).fill("1");
  await page.getByRole("button", { name: "Run as a task" }).click();
  await page.waitForURL(/\/tasks\/\d+$/);
  await heading(/Task #\d+/).waitFor();
  await page.getByRole("status").getByText("done").waitFor();
  await page.getByRole("row", { name: /^1 3 low$/ }).waitFor();
  await page.getByText("0.5 credits (charged)").waitFor();
  await accessible("task, done");
  await screenshot(page, "task-done");

  await menu("Tasks").click();
  await heading("Tasks").waitFor();
  await page.getByRole("row", { name: /risk:1/ }).getByText("done").waitFor();
  await accessible("tasks");

  await menu("Credits").click();
  await page.locator(".balance .big").getByText("0.5", { exact: true }).waitFor();
  await page.getByRole("link", { name: /task \d+: risk:1, 1 rows/ }).waitFor();
  await accessible("credits, user");
  await screenshot(page, "credits");

  // 0.5 left: a task of two rows (1.0) is refused in words and costs nothing.
  await menu("Predict").click();
  await page.getByLabel("Model").selectOption("risk");
  await page.getByLabel("x", { exact: true }).fill("2");
  await page.getByRole("button", { name: "Run as a task" }).click();
  await page.waitForURL(/\/tasks\/\d+$/);
  await page.getByRole("status").getByText("done").waitFor();
  await menu("Predict").click();
  await page.getByLabel("Model").selectOption("risk");
  await page.getByLabel("x", { exact: true }).fill("3");
  await page.getByRole("button", { name: "Run as a task" }).click();
  await page.getByRole("alert").getByText(/not enough credits: this costs 0.5, 0.0 available/i).waitFor();
  await accessible("predict, not enough credits");
}, 60_000);
