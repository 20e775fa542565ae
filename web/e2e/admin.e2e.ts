// The Admin section end to end in headless Chromium against its own `vigil serve`: an admin
// creates a user with a username (the server's reasons next to the fields, a taken username
// too), changes, refuses and clears a username in its row, changes a role, is refused deleting
// the last admin, deletes a user after a confirm step, finds the creation call in the audit log
// through filters kept in the URL, pages with "Show more", and sees the server's health. A user
// sees no Admin menu. axe-core (WCAG A/AA) runs on every page in the light and the dark theme,
// and each test leaves a screenshot in web/test-results/.
import type { Page } from "playwright-core";
import { beforeAll, expect, test } from "vitest";
import { type Server, accessibilityViolations, adminCall, adminPassword, browserSuite, screenshot } from "./harness";

const suite = browserSuite();
let server: Server;
let page: Page;
beforeAll(() => {
  ({ server, page } = suite);
});

// No WCAG A/AA violation in the light theme, nor in the dark one (the page is left light).
async function accessible(what: string) {
  const theme = page.getByLabel("Theme");
  await theme.selectOption("light");
  expect(await accessibilityViolations(page), `${what}, light`).toEqual([]);
  await theme.selectOption("dark");
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
  expect(await accessibilityViolations(page), `${what}, dark`).toEqual([]);
  await theme.selectOption("light");
}

const heading = (name: string) => page.getByRole("heading", { level: 1, name, exact: true });
const menu = () => page.getByRole("navigation", { name: "Main" });

async function signIn(email: string, password: string, lands: RegExp) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(lands);
}

test("an admin creates a user with a username; the server's reasons show next to the fields", async () => {
  await page.goto(server.url + "/admin/users");
  await page.waitForURL(/\/sign-in\?next=%2Fadmin%2Fusers$/);
  await signIn("admin@localhost", adminPassword, /\/admin\/users$/);
  await heading("Users").waitFor();
  await menu().getByRole("list", { name: "Admin" }).waitFor();
  const me = page.getByRole("row", { name: /admin@localhost/ });
  await me.getByText("you").waitFor();
  await accessible("users");

  await page.locator("summary", { hasText: "Create a user" }).click();
  await page.getByLabel("Email").fill("ops@example.com");
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("Role", { exact: true }).selectOption("user");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.locator("#field-password-error").getByText(/at least 8 characters/).waitFor();
  expect(await page.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
  await accessible("users, a password refused");

  // A taken email (in another case) is the email's problem.
  await page.getByLabel("Email").fill("ADMIN@localhost");
  await page.getByLabel("Password").fill("ops-password-1");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.locator("#field-email-error").getByText("A user with this email exists.").waitFor();

  // A taken username (in another case) is the username's problem, in the server's words.
  await adminCall(server, "PATCH", "/api/v1/users/1", JSON.stringify({ username: "root-1" }), {
    "Content-Type": "application/json",
  });
  await page.getByLabel("Email").fill("ops@example.com");
  await page.getByLabel("Username (optional)").fill("ROOT-1");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.locator("#field-username-error").getByText("Is taken by another user (usernames are compared ignoring case)").waitFor();
  expect(await page.getByLabel("Username (optional)").getAttribute("aria-invalid")).toBe("true");
  expect(await page.locator("#field-email-error").count()).toBe(0);
  await accessible("users, a username refused");

  await page.getByLabel("Username (optional)").fill("ops.1");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.getByRole("status").getByText("ops@example.com was created as user.").waitFor();
  const created = page.getByRole("row", { name: /ops@example\.com/ });
  await created.waitFor();
  await expect.poll(() => page.getByLabel("Username of ops@example.com").inputValue()).toBe("ops.1");
  expect(await page.getByLabel("Email").inputValue()).toBe("");
  expect(await page.getByLabel("Username (optional)").inputValue()).toBe("");
  await screenshot(page, "admin-users-created");

  // Changed in its row: a taken one is refused beside it; another is saved; empty clears it.
  const username = page.getByLabel("Username of ops@example.com");
  const save = page.getByRole("button", { name: "Save the username of ops@example.com" });
  await username.fill("Root-1");
  await save.click();
  await created.getByRole("alert").getByText(/Is taken by another user/).waitFor();
  expect(await username.getAttribute("aria-invalid")).toBe("true");
  await username.fill("ops.2");
  await save.click();
  await expect.poll(() => created.getByRole("alert").count()).toBe(0);
  const usernameOf = async (email: string) =>
    (await adminCall(server, "GET", "/api/v1/users")).items.find((u: { email: string }) => u.email === email).username;
  expect(await usernameOf("ops@example.com")).toBe("ops.2");
  await accessible("users, a username changed");
  await username.fill("");
  await save.click();
  await expect.poll(() => usernameOf("ops@example.com")).toBe(null);
});

test("an admin changes a role, may not delete the last admin, and deletes a user after confirming", async () => {
  // The only admin deleting themselves: the API refuses, and the row says why.
  await page.getByRole("button", { name: "Delete admin@localhost" }).click();
  const confirm = page.getByRole("group", { name: /Delete admin@localhost\? It is your own account/ });
  await confirm.waitFor();
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
  await accessible("users, confirm deleting oneself");
  await confirm.getByRole("button", { name: "Yes, delete admin@localhost" }).click();
  await page.getByRole("row", { name: /admin@localhost/ }).getByRole("alert").getByText("This is the last active admin.").waitFor();

  const ops = page.getByRole("row", { name: /ops@example\.com/ });
  await page.getByLabel("Role of ops@example.com").selectOption("admin");
  await page.getByRole("button", { name: "Change role of ops@example.com" }).click();
  await ops.getByRole("status").getByText("Now admin.").waitFor();
  const users = await adminCall(server, "GET", "/api/v1/users");
  expect(users.items.find((u: { email: string }) => u.email === "ops@example.com").role).toBe("admin");
  await accessible("users, role changed");
  await screenshot(page, "admin-users-role");

  // Deleting takes a confirm step; Cancel keeps the user.
  await adminCall(server, "POST", "/api/v1/users", JSON.stringify({ email: "temp@example.com", password: "temp-password", role: "user" }), {
    "Content-Type": "application/json",
  });
  await page.reload();
  const temp = page.getByRole("row", { name: /temp@example\.com/ });
  await temp.getByRole("button", { name: "Delete temp@example.com" }).click();
  await temp.getByRole("button", { name: "Cancel" }).click();
  await temp.getByRole("button", { name: "Delete temp@example.com" }).click();
  await temp.getByRole("button", { name: "Yes, delete temp@example.com" }).click();
  await page.getByRole("status").getByText("temp@example.com was deleted.").waitFor();
  expect(await page.getByRole("row", { name: /temp@example\.com/ }).count()).toBe(0);
});

test("the audit log: filters in the URL find the creation call; back and forward; show more", async () => {
  await menu().getByRole("link", { name: "Audit log" }).click();
  await page.waitForURL(/\/admin\/audit$/);
  await heading("Audit log").waitFor();
  await page.getByRole("table", { name: "API calls, newest first" }).waitFor();
  await accessible("audit");

  // A bad status: the API's reason next to the field.
  await page.getByLabel("Status").fill("abc");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/\/admin\/audit\?status=abc$/);
  await page.locator("#field-status-error").getByText("Must be an HTTP status code").waitFor();
  await page.getByRole("alert").getByText("Fix the filters marked above.").waitFor();
  await accessible("audit, a filter refused");

  await page.getByLabel("Method").selectOption("POST");
  await page.getByLabel("Path starts with").fill("/api/v1/users");
  await page.getByLabel("Status").fill("201");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/\/admin\/audit\?method=POST&path_prefix=%2Fapi%2Fv1%2Fusers&status=201$/);
  // ops@example.com's creation from the console, then temp@example.com's over Basic.
  const rows = page.getByRole("table", { name: "API calls, newest first" }).getByRole("row");
  await expect.poll(() => rows.count()).toBe(3);
  const texts = await rows.allTextContents();
  for (const row of texts.slice(1)) expect(row).toMatch(/admin@localhost.*POST.*\/api\/v1\/users201/);
  await page.getByText("That is every matching call.").waitFor();
  await accessible("audit, filtered");
  await screenshot(page, "admin-audit-filtered");

  // The filters are the URL: back clears them, forward brings them back into the form.
  await page.goBack();
  await page.waitForURL(/\/admin\/audit\?status=abc$/);
  await page.goBack();
  await page.waitForURL(/\/admin\/audit$/);
  expect(await page.getByLabel("Method").inputValue()).toBe("");
  await page.goForward();
  await page.goForward();
  await page.waitForURL(/status=201$/);
  expect(await page.getByLabel("Method").inputValue()).toBe("POST");
  expect(await page.getByLabel("Status").inputValue()).toBe("201");

  // A shared link with a time range: the form shows it in local time; nothing before it.
  await page.goto(`${server.url}/admin/audit?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
  await page.getByRole("heading", { name: "No calls match these filters" }).waitFor();
  expect(await page.getByLabel("Since").inputValue()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);
  await accessible("audit, nothing matches");
  await page.getByRole("link", { name: "Clear the filters" }).first().click();
  await page.waitForURL(/\/admin\/audit$/);

  // More than a page (50) of one caller's calls: "Show more" goes on with the cursor.
  for (let i = 0; i < 55; i++) await adminCall(server, "GET", "/api/v1/auth/me");
  await page.goto(`${server.url}/admin/audit?path_prefix=${encodeURIComponent("/api/v1/auth/me")}`);
  await expect.poll(async () => {
    await page.getByRole("button", { name: "Filter" }).click(); // the same filters: asks again
    return rows.count();
  }, { timeout: 5_000 }).toBe(51);
  await page.getByRole("button", { name: "Show more" }).click();
  await page.getByText("That is every matching call.").waitFor();
  expect(await rows.count()).toBeGreaterThanOrEqual(56);
});

test("health: alive and ready in words, and the key figures of /metrics", async () => {
  await menu().getByRole("link", { name: "Health" }).click();
  await page.waitForURL(/\/admin\/health$/);
  await heading("Health").waitFor();
  await page.getByText("Alive: the server answers.").waitFor();
  await page.getByText("Ready: database ok, migrations ok.").waitFor();
  const figures = page.getByRole("table", { name: "Key figures since the server started" });
  const value = async (name: string) => (await figures.getByRole("row", { name }).getByRole("cell").textContent()) ?? "";
  expect(Number((await value("Requests answered")).replace(/\D/g, ""))).toBeGreaterThan(50);
  expect(await value("Audit records dropped (the writer fell behind)")).toBe("0");
  expect(Number(await value("Open WebSocket sessions"))).toBeGreaterThanOrEqual(1); // this tab's events socket
  await page.getByRole("button", { name: "Check again" }).click();
  await page.getByText("Alive: the server answers.").waitFor();
  await accessible("health");
  await screenshot(page, "admin-health");
});

test("a user sees no Admin menu, and an admin page says it is for admins", async () => {
  await adminCall(server, "POST", "/api/v1/users", JSON.stringify({ email: "viewer@example.com", password: "viewer-password", role: "user" }), {
    "Content-Type": "application/json",
  });
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in\?signed-out$/);
  await signIn("viewer@example.com", "viewer-password", /\/models$/);
  await heading("Models").waitFor();
  expect(await menu().getByRole("link", { name: "Audit log" }).count()).toBe(0);
  await page.goto(server.url + "/admin/audit");
  await heading("Audit log").waitFor();
  await page.getByRole("heading", { name: "For admins only" }).waitFor();
  await accessible("audit, not an admin");
});
