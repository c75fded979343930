// First paint of the runs table (data dir A) and of a 1 M-point chart (data
// dir B): time from navigation to the page's `data-ready` flag (set after
// its first data has rendered), median of ROUNDS fresh page loads. Also the
// server side alone: the downsampled history request for the 1 M points.
// Run by benches/dashboard.sh.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(new URL("../tests/dashboard/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const [dirA, dirB] = process.argv.slice(2);
const rounds = Number(process.env.ROUNDS ?? 5);
const daemonBin = process.env.TRACKLAB_DAEMON_BIN;
const procs = [];

function start(dir) {
  const d = spawn(daemonBin, ["--data-dir", dir, "--port", "0"], { stdio: ["ignore", "pipe", "ignore"] });
  procs.push(d);
  return new Promise((ok) => {
    d.stdout.on("data", (b) => {
      const m = String(b).match(/listening on (\S+)/);
      if (m) ok({ base: `http://${m[1]}`, token: readFileSync(join(dir, "token"), "utf8").trim() });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

async function paint(browser, d, hash, ready) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${d.base}/?token=${d.token}`);
    await page.waitForFunction(() => document.body.dataset.ready === "1");
    const t0 = Date.now();
    await page.goto(`${d.base}/${hash}`);
    await page.reload();
    await page.waitForFunction(ready, null, { timeout: 60_000 });
    times.push(Date.now() - t0);
    await ctx.close();
  }
  return times;
}

try {
  const [a, b] = await Promise.all([start(dirA), start(dirB)]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const table = await paint(browser, a, "#/p/bench", () =>
    document.body.dataset.ready === "1" &&
    document.querySelectorAll('[data-testid="runs-table"] tr[data-run-id]').length > 0);
  const rows = await (async () => {
    const ctx = await browser.newContext();
    const r = await ctx.request.get(`${a.base}/api/v1/runs?project=bench`, { headers: { Authorization: `Bearer ${a.token}` } });
    const n = (await r.json()).runs.length;
    await ctx.close();
    return n;
  })();
  const chart = await paint(browser, b, "#/run/bench-0", () =>
    document.body.dataset.ready === "1" &&
    Number(document.querySelector('[data-testid="chart"][data-metric="metric_0"]')?.dataset.points) > 0);
  const api = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const r = await fetch(`${b.base}/api/v1/runs/bench-0/history?key=metric_0&max_points=2000`, {
      headers: { Authorization: `Bearer ${b.token}` },
    });
    const j = await r.json();
    api.push(performance.now() - t0);
    if (j.series[0].total_points !== 1000000) throw new Error(`expected 1 M points, got ${j.series[0].total_points}`);
  }
  await browser.close();
  console.log(`| measure | median (min–max) of ${rounds} |`);
  console.log(`|---|---|`);
  console.log(`| runs table first paint, ${rows} runs | ${fmt(table)} |`);
  console.log(`| chart first paint, 1 000 000 points (downsampled to ≤ 2 000) | ${fmt(chart)} |`);
  console.log(`| history API alone, 1 M points → ≤ 2 000 | ${fmt(api)} |`);
} finally {
  for (const p of procs) p.kill("SIGTERM");
}
