// What the browser suite runs against: a real `vigil serve` (VIGIL_EXE, default
// ../build/release/vigil) on a free loopback port with a temp data dir, and Debian's Chromium
// (CHROMIUM, default /usr/bin/chromium) driven headless by playwright-core. Also: axe-core's
// WCAG A/AA check of a page, and a screenshot per test in web/test-results/.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import axe from "axe-core";
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const results = join(web, "test-results");
export const adminPassword = "admin-password-1";

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

// The environment without VIGIL_* variables: the server reads those as settings (and refuses
// unknown ones such as VIGIL_EXE).
function serverEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIGIL_")));
}

export interface Server {
  url: string;
  dataDir: string; // the server's --data-dir (its SQLite database is vigil.db there)
  stop: () => Promise<void>;
  log: () => string;
}

export async function startServer(): Promise<Server> {
  const exe = resolve(web, process.env.VIGIL_EXE ?? "../build/release/vigil");
  const dir = mkdtempSync(join(tmpdir(), "vigil-browser-"));
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(
    exe,
    ["serve", "--data-dir", dir, "--set", `server.port=${port}`, "--set", "log.file=",
      "--set", "audit.access_log=", "--set", "auth.password_mem_kib=8192"],
    { env: { ...serverEnv(), VIGIL_ADMIN_PASSWORD: adminPassword }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (up) return { url, dataDir: dir, stop, log: () => output };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`vigil serve did not come up on ${url}:\n${output}`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox"], // root in CI and containers
  });
}

export interface Suite {
  server: Server;
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

// A test file's own `vigil serve` and Chromium page (light colour scheme, 1200×800), set up
// before its tests (the fields are filled then) and stopped after; any CSP violation or page
// error the page met fails the file.
export function browserSuite(timeoutMs = 5_000): Suite {
  const suite = {} as Suite;
  const problems: string[] = []; // CSP violations, uncaught errors
  beforeAll(async () => {
    [suite.server, suite.browser] = await Promise.all([startServer(), launchBrowser()]);
    suite.page = await newConsolePage(suite.browser, problems, timeoutMs);
    suite.context = suite.page.context();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
    expect(problems).toEqual([]);
  });
  return suite;
}

// The WCAG 2 A and AA violations axe-core finds on the page as it is now, as readable lines.
export async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (an injected
  // <script> would be refused, as it should be); once per document.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axe.source);
  const found = await page.evaluate(async () => {
    const w = window as unknown as { axe: typeof axe };
    const r = await w.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  return found;
}

// How many pixels of a canvas are painted (not fully transparent): a chart was drawn.
export function paintedPixels(canvas: Locator): Promise<number> {
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(results, { recursive: true });
  await page.screenshot({ path: join(results, `${name}.png`), fullPage: true });
}

// Calls the API as the first admin (Basic credentials, as the CLI would).
export async function adminCall(server: Server, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: "Basic " + Buffer.from(`admin@localhost:${adminPassword}`).toString("base64"), ...headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export interface Agent {
  stop: () => Promise<void>;
  log: () => string;
}

// A real `vigil agent` (the same binary) enrolling with `code` as `watchdog`, scoring the rows
// appended to `input`; its state in `stateDir`.
export function startAgent(server: Server, code: string, watchdog: string, stateDir: string, input: string): Agent {
  const exe = resolve(web, process.env.VIGIL_EXE ?? "../build/release/vigil");
  let output = "";
  const child = spawn(
    exe,
    ["agent", "--url", server.url, "--code", code, "--watchdog", watchdog, "--state-dir", stateDir, "--input", input,
      "--ping-s", "5", "--retry-max-s", "2"],
    { env: serverEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  return {
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// A page signed in with the email and password, through the sign-in form.
export async function signIn(page: Page, server: Server, email: string, password: string): Promise<void> {
  await page.goto(server.url + "/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/models$/);
}

// A fresh light-themed page; Content-Security-Policy violations and uncaught errors are pushed
// onto `problems` (each suite expects none).
export async function newConsolePage(browser: Browser, problems: string[], timeoutMs = 5_000): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: "light" });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs); // fail at the step that hangs, well within the test's time
  page.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  return page;
}
