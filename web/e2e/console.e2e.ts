// The console end to end in headless Chromium against a real `vigil serve`: sign up, sign in,
// the models an admin uploaded through the API, the back button, the profile's password change,
// the theme, sign-out. Every page visited is checked with axe-core (WCAG A/AA) and each test
// leaves a screenshot in web/test-results/.
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import {
  type Server,
  accessibilityViolations,
  adminCall,
  adminPassword,
  browserSuite,
  screenshot,
} from "./harness";

const suite = browserSuite();
let server: Server;
let context: BrowserContext;
let page: Page;
beforeAll(() => {
  ({ server, context, page } = suite);
});

async function accessible(what: string) {
  expect(await accessibilityViolations(page), what).toEqual([]);
}

const heading = (name: string) => page.getByRole("heading", { level: 1, name, exact: true });

test("a visitor signs up and signs in; errors are shown next to their cause", async () => {
  await page.goto(server.url + "/");
  await page.waitForURL(/\/sign-in\?next=%2Fmodels$/);
  await heading("Sign in").waitFor();
  await accessible("sign-in");

  await page.getByRole("link", { name: "Create one" }).click();
  await page.waitForURL(/\/sign-up$/);
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Name (optional)", { exact: true }).fill("Ada");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Repeat the password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  // The server's reason, next to the field it is about.
  const passwordError = page.locator("#field-password-error");
  await passwordError.waitFor();
  expect(await passwordError.textContent()).toMatch(/at least 8 characters/);
  expect(await page.getByLabel("Password", { exact: true }).getAttribute("aria-invalid")).toBe("true");
  await accessible("sign-up with an error");

  await page.getByLabel("Password", { exact: true }).fill("ada-password-1");
  await page.getByLabel("Repeat the password").fill("ada-password-1");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/sign-in\?registered$/);
  await page.getByText("Your account was created").waitFor();

  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").getByText("Wrong email or password.").waitFor();
  await page.getByLabel("Password").fill("ada-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/models$/);
  await heading("Models").waitFor();
  // The events WebSocket opens with the session cookie, past the CSP and the origin check.
  await page.getByText("Live updates: on").waitFor();
  // The built-in model blank is there from the first start.
  await page.getByRole("row", { name: /blank/ }).waitFor();
  await accessible("models");

  const cookie = (await context.cookies()).find((c) => c.name === "vigil_session");
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false });
  await screenshot(page, "sign-up-and-sign-in");
});

test("models an admin uploaded show with versions and aliases; back and forward work", async () => {
  const linear = (w: number) => JSON.stringify({ weights: [w, -0.25, 1], bias: 0.1, link: "logistic" });
  for (const [w, description] of [[0.5, "first fit"], [0.75, "refit on May data"]] as const) {
    await adminCall(server, "POST", "/api/v1/models/leak-risk/versions?kind=linear", linear(w), {
      "Content-Type": "application/octet-stream",
      "Vigil-Metadata": JSON.stringify({
        description,
        features: ["flow", "pressure", "temp"],
        bands: [{ below: 0.5, label: "low risk", color: "green" }, { label: "high risk", color: "red" }],
      }),
    });
  }
  await adminCall(server, "PUT", "/api/v1/models/leak-risk/aliases/production", '{"version":1}', {
    "Content-Type": "application/json",
  });

  await page.reload();
  const row = page.getByRole("row", { name: /leak-risk/ });
  await row.waitFor();
  expect(await row.textContent()).toMatch(/linear.*2.*production → 1/);
  await accessible("models, one model");

  await page.getByRole("link", { name: "leak-risk" }).click();
  await page.waitForURL(/\/models\/leak-risk$/);
  await heading("leak-risk").waitFor();
  await page.getByRole("cell", { name: "refit on May data" }).waitFor();
  expect(await page.getByRole("row").filter({ hasText: "first fit" }).textContent()).toMatch(/production/);
  await page.getByRole("heading", { name: "Alias moves" }).waitFor();
  await accessible("model");
  await screenshot(page, "model");

  await page.goBack();
  await page.waitForURL(/\/models$/);
  await heading("Models").waitFor();
  await page.goForward();
  await heading("leak-risk").waitFor();

  // Empty states say what to do next.
  await page.goto(server.url + "/models/blank");
  await page.getByText(/No aliases\. An admin can point one/).waitFor();
  await page.goto(server.url + "/models/no-such-model");
  await page.getByRole("heading", { name: "No such model" }).waitFor();
  await page.getByRole("link", { name: "See all models" }).waitFor();
});

test("keyboard: the profile changes the password; dark theme; sign-out ends the session", async () => {
  await page.goto(server.url + "/models");
  await heading("Models").waitFor();
  // The first Tab reaches the skip link; the menu is reachable and works with Enter.
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
  await page.getByRole("link", { name: "Profile" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/profile$/);
  await heading("Your profile").waitFor();
  expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("H1");

  await page.getByLabel("Current password").fill("not-my-password");
  await page.getByLabel("New password", { exact: true }).fill("ada-password-2");
  await page.getByLabel("Repeat the new password").fill("ada-password-2");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator("#field-current_password-error").getByText("Current password is wrong.").waitFor();
  await page.getByLabel("Current password").fill("ada-password-1");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByRole("status").getByText("Your password was changed.").waitFor();
  await accessible("profile, light");

  await page.getByLabel("Theme").selectOption("dark");
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
  await accessible("profile, dark");
  await screenshot(page, "profile-dark");
  await page.reload();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in\?signed-out$/);
  await page.getByText("You signed out.").waitFor();
  expect(await page.getByText(/Live updates/).count()).toBe(0);
  expect((await context.cookies()).find((c) => c.name === "vigil_session")).toBeUndefined();
  await page.goto(server.url + "/profile");
  await page.waitForURL(/\/sign-in\?next=%2Fprofile$/);
  await accessible("sign-in, dark");
  await screenshot(page, "signed-out");

  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByLabel("Password").fill("ada-password-2");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/profile$/);
});

test("an admin points an alias from the model's page and downloads a version", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in\?signed-out$/);
  await page.getByLabel("Email").fill("admin@localhost");
  await page.getByLabel("Password").fill(adminPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/models$/);
  await page.getByRole("link", { name: "leak-risk" }).click();
  await heading("leak-risk").waitFor();

  // Downloads go with the session cookie.
  const href = await page.getByRole("link", { name: "Download version 2" }).getAttribute("href");
  expect(href).toBe("/api/v1/models/leak-risk/versions/2/artifact");
  const file = await page.request.get(server.url + href);
  expect(file.status()).toBe(200);
  expect(JSON.parse(await file.text())).toMatchObject({ weights: [0.75, -0.25, 1] });

  await page.getByLabel("Alias", { exact: true }).fill("no spaces!");
  await page.getByRole("button", { name: "Point alias" }).click();
  await page.locator("#field-alias-error").getByText(/1-64 characters/).waitFor();
  await accessible("model, alias error");

  await page.getByLabel("Alias", { exact: true }).fill("production");
  await page.getByLabel("Version", { exact: true }).selectOption("2");
  await page.getByRole("button", { name: "Point alias" }).click();
  await page.getByRole("listitem").filter({ hasText: "production" }).getByText("version 2").waitFor();
  // The page reloaded the model and kept the form's message.
  await page.getByRole("status").getByText("production now points at version 2.").waitFor();
  expect(await page.getByRole("table", { name: "Alias moves, newest first" }).getByRole("row").count()).toBe(3);
  await accessible("model, alias moved");
  await screenshot(page, "admin-alias");

  // Private to its owner and readers: a bad reader id is refused next to the field.
  await page.locator("summary", { hasText: "Who may use this model" }).click();
  await page.getByLabel("Visibility").selectOption("private");
  await page.getByLabel("Readers (user ids)").fill("999");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#field-readers-error").getByText(/no user 999/i).waitFor();
  await page.getByLabel("Readers (user ids)").fill("");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("leak-risk is now private.").waitFor();
  await page.getByText("private: its owner, no readers and admins").waitFor();
  await accessible("model, private");
  await page.getByLabel("Visibility").selectOption("public");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("leak-risk is now public.").waitFor();

  // The next version, uploaded from the page: a file the runtime cannot load is refused with
  // the runtime's reason next to the file; a good one lands as version 3 with its metadata.
  await page.locator("summary", { hasText: "Upload the next version" }).click();
  const chooser = page.getByLabel("Model file (linear)");
  await chooser.setInputFiles({ name: "broken.json", mimeType: "application/json", buffer: Buffer.from("{not json") });
  await page.getByRole("button", { name: "Upload the next version" }).click();
  await page.locator("#field-file-error").getByText(/linear runtime cannot load it/).waitFor();
  await accessible("model, upload refused");
  await chooser.setInputFiles({
    name: "leak-risk-3.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ weights: [1, 1, 1], bias: 0, link: "logistic" })),
  });
  await page.getByLabel("Description (optional)").fill("third, from the console");
  await page.getByLabel("Feature names (optional)").fill("flow, pressure, temp");
  await page.getByRole("button", { name: "Upload the next version" }).click();
  await page.getByText("Version 3 was uploaded.").waitFor();
  await page.getByRole("cell", { name: "third, from the console" }).waitFor();
  const v3 = await adminCall(server, "GET", "/api/v1/models/leak-risk/versions/3");
  expect(v3.metadata).toEqual({ description: "third, from the console", features: ["flow", "pressure", "temp"] });
});

test("an admin uploads a new model from the models page", async () => {
  await page.goto(server.url + "/models");
  await page.locator("summary", { hasText: "Upload a model" }).click();
  await page.getByLabel("Model name").fill("pump-wear");
  await page.getByLabel("Kind").selectOption("linear");
  await page.getByLabel("Model file").setInputFiles({
    name: "pump.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ weights: [0.2, 0.8], bias: 0, link: "identity" })),
  });
  await page.getByLabel("Price per row (optional)").fill("cheap");
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.locator("#field-price-error").getByText("Give a number").waitFor();
  await accessible("models, upload form with an error");
  await page.getByLabel("Price per row (optional)").fill("0.5");
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.waitForURL(/\/models\/pump-wear\?uploaded=1$/);
  await heading("pump-wear").waitFor();
  await page.getByText("Version 1 was uploaded.").waitFor();
  await screenshot(page, "admin-upload");
});

test("a prediction from the form the model's features make, with its band and contributions", async () => {
  await page.getByRole("link", { name: "Predict", exact: true }).click();
  await page.waitForURL(/\/predict$/);
  await heading("Predict").waitFor();
  await page.getByLabel("Model").selectOption("leak-risk");
  await page.waitForURL(/\/predict\/leak-risk$/);
  expect(await page.getByLabel("Version").inputValue()).toBe("2"); // production
  await page.getByLabel("flow").fill("1");
  await page.getByLabel("temp").fill("warm");
  await page.getByRole("button", { name: "Predict" }).click();
  await page.locator('[id="field-features.temp-error"]').getByText(/Give a number/).waitFor();
  await page.getByLabel("temp").fill("2"); // pressure stays empty: missing
  await page.getByRole("button", { name: "Predict" }).click();
  // logistic(0.75·1 + 1·2 + 0.1) = 0.9453; missing pressure contributes nothing.
  const outcome = page.getByRole("status").filter({ hasText: "0.9453" });
  await outcome.getByText("high risk").waitFor();
  const rows = page.getByRole("table", { name: /Contribution of each feature/ }).getByRole("row");
  expect(await rows.allTextContents()).toEqual(["FeatureContribution", "temp2", "flow0.75", "pressure0", "bias0.1"]);
  await accessible("predict, dark");
  await page.getByLabel("Theme").selectOption("light");
  await accessible("predict, light");
  await screenshot(page, "predict");
});
