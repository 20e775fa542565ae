#!/usr/bin/env node
// S12 of docs BENCHMARKS.md: the web console in Chromium on loopback — first load to interactive,
// and the JS and CSS it ships. Run with Debian's node (bench/run --scenarios S12 does; so can you:
// `node bench/console/s12.mjs --help`). See bench/README.md, "S12".
//
// It starts `vigil serve` (the binary under test; the console is embedded in it) on a free
// loopback port with a temp data dir, as web/e2e/harness.ts does, and Debian's Chromium headless
// through playwright-core (web/node_modules, npm ci in web/). Then, each run, three fresh
// browser contexts (each its own empty HTTP cache and cookie jar), in an order that rotates:
//   - sign-in: the visitor's first page. GET /sign-in, and the moment the sign-in form is usable:
//     the email input is in the document, enabled, laid out, and typing into it reaches the
//     page's state (see INTERACTIVE below);
//   - models: a signed-in user's first page. The session cookie from one API login is put in the
//     context first; GET /models, and the moment the models table shows its first row (the
//     built-in model `blank`, there from the first start);
//   - floor: the peer, a static page with the same input and probe as sign-in (FLOOR_HTML).
// Times are the page's own: performance.now() in the page, whose zero is the navigation's start
// (timeOrigin), read when the moment is reached. Each context then loads the same URL a second
// time (a warm cache: the hashed assets are `immutable`). The first pass is a warm-up, not
// counted (Chromium's first context pays for its caches and helper processes once).
// Sizes: every response of the warm-up's two first console loads (the documents, scripts and style
// sheets, bodies as the browser received them), gzipped with zlib at level 9, and every file of
// web/dist (what the binary embeds, when it was built from that dist: checked on index.html).
//
// Output: progress on stderr; a readable table on stdout, then one JSON line (the last line of
// stdout) for bench/lib/console.py. Exit 1 on any failure (server, browser, a page error, a CSP
// violation, a moment not reached within --timeout ms).
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ADMIN_EMAIL = "admin@localhost";
const ADMIN_PASSWORD = "bench-password-123"; // as bench/lib/servers.py
// BENCHMARKS.md's S12 row. KB = 1000 bytes.
const TARGETS = { interactive_ms: 500, js_css_gzip_bytes: 200_000 };
const GZIP_LEVEL = 9;
const PAGES = {
  "sign-in": { path: "/sign-in", signedIn: false, moment: "the sign-in form usable" },
  models: { path: "/models", signedIn: true, moment: "the models table's first row shown" },
  floor: { path: "/floor", signedIn: false, moment: "the form usable (the sign-in probe)", floor: true },
};
// The floor: what any first interactive page costs in this browser on this machine, measured in
// the same run with the same probe as sign-in. One document from a loopback server of this
// script (node:http), nothing else to fetch: the email input in the markup and, in the head, a
// listener that keeps the typed text in a variable and writes the input back from it in a
// microtask, as Preact re-renders a controlled input. (Delegated from the document, so it is
// there before the input is.)
const FLOOR_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>S12 floor</title>
<script>
let email = "";
document.addEventListener("input", (e) => {
  if (e.target.id !== "field-email") return;
  email = e.target.value;
  queueMicrotask(() => { if (e.target.value !== email) e.target.value = email; });
});
</script>
</head>
<body>
<main><h1>Sign in</h1><form><label for="field-email">Email</label> <input id="field-email" name="email" type="email"></form></main>
</body>
</html>
`;
const VIEWPORT = { width: 1200, height: 800 };

const USAGE = `usage: node bench/console/s12.mjs [options]
  --vigil PATH     the binary under test (default build/release/vigil)
  --web DIR        the console's source dir: playwright-core from DIR/node_modules, the dist
                   total from DIR/dist (default web/ of this checkout)
  --chromium PATH  the browser (default /usr/bin/chromium)
  --runs N         measured runs, each two fresh contexts, cold then warm (default 20)
  --warmup N       passes before them, not counted (default 1; the sizes come from the first)
  --timeout MS     how long a load may take to reach its moment (default 10000)`;

function options() {
  const { values } = parseArgs({
    options: {
      vigil: { type: "string", default: join(repo, "build/release/vigil") },
      web: { type: "string", default: join(repo, "web") },
      chromium: { type: "string", default: "/usr/bin/chromium" },
      runs: { type: "string", default: "20" },
      warmup: { type: "string", default: "1" },
      timeout: { type: "string", default: "10000" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return {
    vigil: resolve(values.vigil), web: resolve(values.web), chromium: values.chromium,
    runs: int("runs", 1), warmup: int("warmup", 1), timeout: int("timeout", 100),
  };
}

class Failure extends Error {}
let stopping = false; // a signal came: main's failures from here on are the stopping's
function fail(text) {
  throw new Failure(text);
}
const progress = (text) => process.stderr.write(text + "\n");

// ---- processes: each in its own group, recorded for bench/run's last-resort cleanup ----------

// bench/run kills every process group listed in $BENCH_WORKDIR/pgids when it exits.
function recordGroup(pid) {
  if (process.env.BENCH_WORKDIR && pid) appendFileSync(join(process.env.BENCH_WORKDIR, "pgids"), `${pid}\n`);
}

// Our direct children: Chromium, which playwright-core starts as a process group leader.
function childPids() {
  const out = [];
  for (const task of readdirSync("/proc/self/task")) {
    try {
      out.push(...readFileSync(`/proc/self/task/${task}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // a thread gone meanwhile
    }
  }
  return out;
}

function freePort() {
  return new Promise((ok, no) => {
    const s = createServer();
    s.once("error", no);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// The environment without VIGIL_* variables: the server reads those as settings (and refuses
// unknown ones), so only its own are passed (web/e2e/harness.ts does the same).
function serverEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIGIL_")));
}

async function startServer(exe) {
  try {
    statSync(exe);
  } catch {
    fail(`${exe} not found: build Vigil first (cmake --preset release && cmake --build --preset release)`);
  }
  const dir = mkdtempSync(join(process.env.BENCH_WORKDIR || tmpdir(), "vigil-s12-"));
  const port = await freePort();
  const logPath = join(dir, "server.log");
  const log = openSync(logPath, "a");
  // web/e2e/harness.ts's flags: no log file and no access log in the data dir, and a cheap
  // password hash (the one login is not measured). Plus the loopback address, explicitly.
  const argv = ["serve", "--host", "127.0.0.1", "--data-dir", join(dir, "data"), "--set", `server.port=${port}`,
    "--set", "log.file=", "--set", "audit.access_log=", "--set", "auth.password_mem_kib=8192"];
  const child = spawn(exe, argv, {
    env: { ...serverEnv(), VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD, VIGIL_LOG__LEVEL: "warn" },
    stdio: ["ignore", log, log], detached: true,
  });
  closeSync(log);
  recordGroup(child.pid);
  const url = `http://127.0.0.1:${port}`;
  const logTail = () => {
    try {
      return readFileSync(logPath, "utf8").split("\n").slice(-20).map((l) => "  | " + l).join("\n");
    } catch {
      return "  | (no log)";
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once("exit", ok));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const server = { url, stop, argv: [exe, ...argv], logTail };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) return server;
    await new Promise((r) => setTimeout(r, 20));
  }
  const tail = logTail();
  await stop();
  fail(`vigil serve did not become ready on ${url}:\n${tail}`);
}

// The floor page's server: FLOOR_HTML at every path, on a free loopback port.
async function startFloor() {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
      "Content-Length": Buffer.byteLength(FLOOR_HTML) });
    res.end(FLOOR_HTML);
  });
  await new Promise((ok, no) => server.once("error", no).listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((ok) => server.close(ok)) };
}

// The admin's session cookie, from one API login (POST /api/v1/auth/login sets vigil_session).
async function login(url) {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const text = await res.text();
  if (res.status !== 200) fail(`POST /api/v1/auth/login answered ${res.status}: ${text.slice(0, 500)}`);
  const cookie = res.headers.getSetCookie().map((c) => /^vigil_session=([^;]+)/.exec(c)).find(Boolean);
  if (!cookie) fail(`POST /api/v1/auth/login answered 200 without a vigil_session cookie`);
  return cookie[1];
}

function loadPlaywright(web) {
  const require = createRequire(join(web, "package.json"));
  try {
    return require("playwright-core");
  } catch (e) {
    fail(`playwright-core not found from ${web}: run \`npm ci\` in ${web}, or name a console dir that has ` +
      `node_modules with --web (${e.code ?? e.message})`);
  }
}

// ---- in the page ---------------------------------------------------------------------------

// Runs in every document of a context before its own scripts (an init script: the DevTools
// protocol's, which the console's CSP does not govern). It watches the DOM and records, in
// performance.now() milliseconds since the navigation started:
//   app: the first time #app has a child (the console's first render, "Loading…");
//   shown: sign-in, the first time the email input is in the document, enabled and laid out;
//   interactive: the moment the load waits for.
// INTERACTIVE, sign-in: the email input is there, enabled and laid out, and an input event on it
// reaches the component's state. The probe sets the input's value, dispatches `input` (the way
// typing does; Preact listens on the element itself), then empties the value directly, without
// an event. The Field's onInput handler puts the text in SignIn's state (useState), and Preact
// re-renders the controlled input from that state in a microtask, writing the text back into
// the emptied element. So the value reads back as the probe text only if the handler ran, the
// state changed and the component re-rendered; the moment is when it is read back. If it does
// not (a handler not attached yet), the probe is tried again 10 ms later or at the next change
// of the DOM.
// INTERACTIVE, floor: the same as sign-in, on the floor page.
// INTERACTIVE, models: a row of the models table (main table tbody tr) whose first cell's link
// reads `blank`.
function instrument({ kind, probe }) {
  const marks = {};
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  Object.defineProperty(window, "__s12", { value: { marks, done }, enumerable: false });
  let finished = false;
  let probing = false;
  let retry = 0;
  const now = () => performance.now();

  const collect = () => {
    const nav = performance.getEntriesByType("navigation")[0];
    const paint = {};
    for (const e of performance.getEntriesByType("paint")) paint[e.name] = e.startTime;
    const resources = performance.getEntriesByType("resource").map((e) => ({
      path: new URL(e.name).pathname, initiator: e.initiatorType, start: e.startTime,
      request: e.requestStart, response: e.responseStart, end: e.responseEnd,
      transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize,
    }));
    return {
      marks, paint, resources,
      nav: nav && { responseStart: nav.responseStart, responseEnd: nav.responseEnd, transfer: nav.transferSize,
        domInteractive: nav.domInteractive, dcl: nav.domContentLoadedEventEnd },
    };
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    marks.interactive = now();
    observer.disconnect();
    // The paint entries of the frame that shows it are in one frame later.
    requestAnimationFrame(() => setTimeout(() => resolveDone(collect()), 0));
  };

  const trySignIn = () => {
    const el = document.getElementById("field-email");
    if (probing || !el || !el.isConnected || !el.matches(":enabled") || el.getClientRects().length === 0) return;
    if (marks.shown === undefined) marks.shown = now();
    marks.probes = (marks.probes ?? 0) + 1;
    probing = true;
    el.value = probe;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.value = "";
    let turns = 0;
    const check = () => {
      if (finished) return;
      if (el.value === probe) return finish();
      if (++turns < 3) return void setTimeout(check, 0);
      probing = false; // not yet: try again soon
      clearTimeout(retry);
      retry = setTimeout(trySignIn, 10);
    };
    queueMicrotask(check); // after Preact's re-render, which the handler queued first
  };
  const tryModels = () => {
    for (const tr of document.querySelectorAll("main table tbody tr")) {
      if (tr.querySelector("th a")?.textContent === "blank") return finish();
    }
  };
  const observer = new MutationObserver(() => {
    if (finished) return;
    if (marks.app === undefined && document.getElementById("app")?.firstChild) marks.app = now();
    if (kind === "models") tryModels();
    else trySignIn();
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
}

// ---- the runs ------------------------------------------------------------------------------

// One load of url in page until its moment; the page's record of it.
async function load(page, url, timeout) {
  await page.goto(url, { waitUntil: "commit", timeout });
  let timer;
  const got = await Promise.race([
    page.evaluate(() => window.__s12.done),
    new Promise((r) => (timer = setTimeout(() => r(null), timeout))),
  ]).finally(() => clearTimeout(timer));
  if (!got) fail(`${url}: not interactive ${timeout} ms after the navigation started`);
  return got;
}

// One context (cold: its own empty cache), two loads of one page: cold, then warm.
async function pass(browser, server, floor, cookie, kind, opts, sizes) {
  const spec = PAGES[kind];
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: "light" });
  const problems = [];
  try {
    if (spec.signedIn) {
      await context.addCookies([{ name: "vigil_session", value: cookie, url: server.url, httpOnly: true, sameSite: "Strict" }]);
    }
    await context.addInitScript(instrument, { kind, probe: "s12-probe@example.invalid" });
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e}`));
    // (Not every console error: a signed-out visitor's GET /api/v1/auth/me answers 401, which
    // Chromium logs as one.)
    page.on("console", (m) => {
      if (m.text().includes("Content Security Policy")) problems.push(`console: ${m.text()}`);
    });
    const bodies = [];
    if (sizes) {
      page.on("response", (r) => {
        bodies.push(r.body().then((body) => ({
          path: new URL(r.url()).pathname, type: r.request().resourceType(), status: r.status(),
          encoding: r.headers()["content-encoding"] ?? null, contentType: r.headers()["content-type"] ?? null, body,
        }), () => null));
      });
    }
    const url = (spec.floor ? floor.url : server.url) + spec.path;
    const cold = await load(page, url, opts.timeout);
    if (sizes) {
      sizes.push(...(await Promise.all(bodies.splice(0))).filter(Boolean).map((r) => ({ ...r, page: kind })));
    }
    const warm = await load(page, url, opts.timeout);
    if (problems.length) fail(`${kind}: ${problems.join("; ")}`);
    return { cold, warm };
  } finally {
    await context.close();
  }
}

// ---- figures -------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// Nearest rank: the smallest value with at least p of the samples at or below it.
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)];
};
const gz = (buf) => gzipSync(buf, { level: GZIP_LEVEL }).length;
const kind = (path, contentType) => {
  if (/\.m?js$/.test(path) || /javascript/.test(contentType ?? "")) return "js";
  if (/\.css$/.test(path) || /text\/css/.test(contentType ?? "")) return "css";
  if (/\.html$/.test(path) || /text\/html/.test(contentType ?? "")) return "html";
  return "other";
};

// What the first loads fetched: one row per distinct path (the first body seen), the pages
// that fetched it; JS+CSS total (the one compared with the target) and index.html apart.
function shipped(responses) {
  const byPath = new Map();
  for (const r of responses) {
    if (r.status !== 200) continue;
    const type = r.type === "document" ? "html" : kind(r.path, r.contentType);
    if (!["html", "js", "css"].includes(type) && r.type !== "script" && r.type !== "stylesheet") continue;
    const row = byPath.get(r.path) ?? {
      path: r.path, type, raw: r.body.length, gzip: gz(r.body), encoding: r.encoding, pages: [], body: r.body,
    };
    if (!row.pages.includes(r.page)) row.pages.push(r.page);
    byPath.set(r.path, row);
  }
  const files = [...byPath.values()];
  const jsCss = files.filter((f) => f.type === "js" || f.type === "css");
  // index.html is the body of every page URL (a client-side route): the same bytes under /sign-in
  // and /models.
  const html = files.filter((f) => f.type === "html");
  const sameHtml = html.every((f) => f.body.equals(html[0].body));
  return {
    files: files.map(({ body, ...f }) => f),
    js_css: { raw: jsCss.reduce((a, f) => a + f.raw, 0), gzip: jsCss.reduce((a, f) => a + f.gzip, 0), count: jsCss.length },
    index_html: html.length ? { raw: html[0].raw, gzip: html[0].gzip, same_on_every_page: sameHtml } : null,
    html_body: html[0]?.body,
  };
}

function distFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith(".")) continue; // the build's .built marker
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const body = readFileSync(p);
        out.push({ path: "/" + relative(dir, p), type: kind(p, null), raw: body.length, gzip: gz(body), body });
      }
    }
  };
  try {
    walk(dir);
  } catch (e) {
    return null; // no dist: the console not built in this checkout (--web names another)
  }
  return out;
}

function distSummary(dir, servedHtml) {
  const files = distFiles(dir);
  if (!files) return { dir, files: null };
  const sum = (fs, k) => fs.reduce((a, f) => a + f[k], 0);
  const jsCss = files.filter((f) => f.type === "js" || f.type === "css");
  const index = files.find((f) => f.path === "/index.html");
  return {
    dir, files: files.map(({ body, ...f }) => f),
    total: { raw: sum(files, "raw"), gzip: sum(files, "gzip"), count: files.length },
    js_css: { raw: sum(jsCss, "raw"), gzip: sum(jsCss, "gzip"), count: jsCss.length },
    // The binary embeds web/dist as it was when it was built: the dist is that build's if its
    // index.html (which names the hashed assets) is the one served.
    matches_served: Boolean(index && servedHtml && index.body.equals(servedHtml)),
  };
}

// The phases of one load, ms since the navigation started; null when absent.
function phases(rec, kind) {
  const res = (pred) => rec.resources.find(pred);
  const end = (pred) => res(pred)?.end ?? null;
  const start = (pred) => res(pred)?.start ?? null;
  return {
    html: rec.nav?.responseEnd ?? null,
    css: end((r) => r.path.endsWith(".css")),
    js: end((r) => r.path.endsWith(".js")),
    dcl: rec.nav?.dcl ?? null,
    app: rec.marks.app ?? null,
    me_sent: start((r) => r.path === "/api/v1/auth/me"),
    me: end((r) => r.path === "/api/v1/auth/me"),
    list_sent: kind === "models" ? start((r) => r.path === "/api/v1/models") : null,
    list: kind === "models" ? end((r) => r.path === "/api/v1/models") : null,
    fcp: rec.paint["first-contentful-paint"] ?? null,
    shown: rec.marks.shown ?? null,
    interactive: rec.marks.interactive,
  };
}
const PHASE_NAMES = {
  html: "index.html received (responseEnd)", css: "CSS received", js: "JS received",
  dcl: "DOMContentLoaded done (the module script ran)", app: "first render of #app (\"Loading…\")",
  me_sent: "GET /api/v1/auth/me started (fetch)", me: "GET /api/v1/auth/me answered",
  list_sent: "GET /api/v1/models started", list: "GET /api/v1/models answered", fcp: "first contentful paint",
  shown: "email input shown (enabled, laid out)", interactive: "the moment (interactive)",
};

function summarize(samples) {
  return { median: median(samples), p95: percentile(samples, 0.95), min: Math.min(...samples), max: Math.max(...samples), n: samples.length };
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const opts = options();
  const { chromium } = loadPlaywright(opts.web);
  let server = null;
  let browser = null;
  let floor = null;
  const stopAll = async () => {
    await browser?.close().catch(() => {});
    browser = null;
    await server?.stop();
    server = null;
    await floor?.stop();
    floor = null;
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(sig, () => {
      stopping = true; // what fails meanwhile (the closed browser) is no news
      progress(`S12: ${sig}, stopping`);
      stopAll().finally(() => process.exit(130));
    });
  }
  try {
    server = await startServer(opts.vigil);
    const cookie = await login(server.url);
    floor = await startFloor();
    const before = new Set(childPids());
    // Signals are ours to handle (above): playwright-core's own handlers would leave the server.
    browser = await chromium.launch({ executablePath: opts.chromium, headless: true, args: ["--no-sandbox"],
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    for (const pid of childPids()) if (!before.has(pid)) recordGroup(pid);
    const version = browser.version();
    progress(`S12: ${server.url}, Chromium ${version}, ${opts.warmup} warm-up + ${opts.runs} runs`);

    const responses = [];
    const loads = Object.fromEntries(Object.keys(PAGES).map((k) => [k, { cold: [], warm: [] }]));
    const total = opts.warmup + opts.runs;
    for (let i = 0; i < total; i++) {
      const measured = i >= opts.warmup;
      // The order of the pages rotates, so drift hits each alike.
      const names = Object.keys(PAGES);
      const order = [...names.slice(i % names.length), ...names.slice(0, i % names.length)];
      const line = [];
      for (const k of order) {
        const r = await pass(browser, server, floor, cookie, k, opts, i === 0 && !PAGES[k].floor ? responses : null);
        if (measured) {
          loads[k].cold.push(r.cold);
          loads[k].warm.push(r.warm);
        }
        line.push(`${k} ${r.cold.marks.interactive.toFixed(1)} / ${r.warm.marks.interactive.toFixed(1)} ms`);
      }
      progress(`S12 ${measured ? `run ${i - opts.warmup + 1}/${opts.runs}` : `warm-up ${i + 1}/${opts.warmup}`}: ` +
        `${line.join(", ")} (cold / warm)`);
    }

    const sizes = shipped(responses);
    const dist = distSummary(join(opts.web, "dist"), sizes.html_body);
    delete sizes.html_body;
    const pages = {};
    for (const [k, { cold, warm }] of Object.entries(loads)) {
      const phaseMedians = (recs) => {
        const ps = recs.map((r) => phases(r, k));
        return Object.fromEntries(Object.keys(ps[0]).map((name) => {
          const xs = ps.map((p) => p[name]).filter((x) => x !== null && x !== undefined);
          return [name, xs.length ? median(xs) : null];
        }));
      };
      // A warm load's JS and CSS from the cache: no bytes over the network (transferSize 0).
      const cached = (recs) => recs.filter((r) => r.resources.filter((x) => /\.(js|css)$/.test(x.path)).every((x) => x.transfer === 0)).length;
      const summary = (recs) => ({
        ...summarize(recs.map((r) => r.marks.interactive)), runs: recs.map((r) => r.marks.interactive),
        phases: phaseMedians(recs),
        // How many probes the sign-in moment took at most (1: the handler worked at the first try).
        ...(PAGES[k].signedIn ? {} : { probes_max: Math.max(...recs.map((r) => r.marks.probes ?? 0)) }),
      });
      pages[k] = {
        path: PAGES[k].path, moment: PAGES[k].moment, floor: Boolean(PAGES[k].floor),
        cold: summary(cold), warm: { ...summary(warm), assets_from_cache: cached(warm) },
      };
    }
    const result = {
      scenario: "S12", runs: opts.runs, warmup: opts.warmup, chromium: version, viewport: VIEWPORT,
      server: server.argv.join(" "),
      // Which build was measured: the binary's modification time (the console is embedded in it).
      binary: { path: opts.vigil, mtime: statSync(opts.vigil).mtime.toISOString(), bytes: statSync(opts.vigil).size },
      gzip_level: GZIP_LEVEL, targets: TARGETS, pages, shipped: sizes, dist,
      phase_names: PHASE_NAMES,
    };
    await stopAll();
    process.stdout.write(table(result) + "\n" + JSON.stringify(result) + "\n");
  } finally {
    await stopAll();
  }
}

const ms = (x) => (x === null || x === undefined ? "—" : `${x.toFixed(1)} ms`);
const kb = (b) => `${(b / 1000).toFixed(1)} KB`;

function table(r) {
  const rows = [["measure", "median", "p95", "min–max", "target", "met"]];
  for (const [k, p] of Object.entries(r.pages)) {
    for (const w of ["cold", "warm"]) {
      const s = p[w];
      const judged = w === "cold" && !p.floor;
      const goal = judged ? `≤ ${r.targets.interactive_ms} ms` : "—";
      const met = judged ? (s.median <= r.targets.interactive_ms ? "yes" : "NO") : "—";
      rows.push([`${k} ${w}: start → ${p.moment}`, ms(s.median), ms(s.p95), `${ms(s.min)}–${ms(s.max)}`, goal, met]);
    }
  }
  const js = r.shipped.js_css;
  rows.push([`JS + CSS a first load fetches (${js.count} files), gzip -${r.gzip_level}`, kb(js.gzip), "", `raw ${kb(js.raw)}`,
    `≤ ${kb(r.targets.js_css_gzip_bytes)}`, js.gzip <= r.targets.js_css_gzip_bytes ? "yes" : "NO"]);
  if (r.shipped.index_html) rows.push([`index.html, gzip -${r.gzip_level}`, kb(r.shipped.index_html.gzip), "", `raw ${kb(r.shipped.index_html.raw)}`, "—", "—"]);
  if (r.dist.files) rows.push([`web/dist, all ${r.dist.total.count} files, gzip -${r.gzip_level}`, kb(r.dist.total.gzip), "", `raw ${kb(r.dist.total.raw)}`, "—", "—"]);
  const width = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const fmt = (row) => row.map((c, i) => String(c).padEnd(width[i])).join("  ").trimEnd();
  const lines = [`S12 · the console in Chromium ${r.chromium}, ${r.runs} runs (cold = a fresh context, warm = its second load)`, fmt(rows[0]), ...rows.slice(1).map(fmt)];
  lines.push("", "files a first load fetches:");
  for (const f of r.shipped.files) lines.push(`  ${f.path.padEnd(32)} ${f.type.padEnd(5)} raw ${kb(f.raw).padStart(9)}  gzip ${kb(f.gzip).padStart(9)}  ${f.pages.join(", ")}`);
  if (r.dist.files && !r.dist.matches_served) lines.push(`!! ${r.dist.dir} is not the dist this binary embeds (its index.html differs from the one served)`);
  return lines.join("\n");
}

main().then(() => process.exit(0), (e) => {
  if (stopping) return;
  progress(e instanceof Failure ? `S12: ${e.message}` : `S12: ${e.stack ?? e}`);
  process.exit(1);
});
