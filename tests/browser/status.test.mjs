// The status page in a real browser: Debian's chromium driven by playwright-core.
//
// Starts `kassa ofd-emulator` (with its fault port) and `kassa serve` pointed at it, registers a KKM and a
// cashier, cuts the OFD off and makes a sale, so the KKM works autonomously. In the page: a wrong PIN and a
// cashier's PIN get a sentence each; the administrator's PIN shows the KKM autonomous with its queued
// document, the oldest unsent one and the hours left, what to do, and the printer. Exits non-zero on failure.
// KASSA_SCREENSHOTS=DIR writes status.png (1280 px) and status-tablet.png (768 px) there.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { createInterface } from "node:readline";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.KASSA_BIN || resolve(here, "../../target/debug/kassa");
const shots = process.env.KASSA_SCREENSHOTS;
const PIN = "8642";

// Spawns the binary and resolves with the addresses it prints as `listening <name> <address>`.
function start(args, names, env) {
  const child = spawn(bin, args, { env: { ...process.env, RUST_LOG: "warn", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const addrs = {};
  const ready = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${args[0]} did not listen within 30 s`)), 30000);
    child.on("exit", (code) => fail(new Error(`${args[0]} exited (${code}) before it listened`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const [word, name, addr] = line.split(" ");
      if (word === "listening") addrs[name] = addr;
      if (names.every((n) => addrs[n])) { clearTimeout(timer); ok(addrs); }
    });
  });
  return { child, ready };
}

// One command on the OFD emulator's fault port; resolves with its one-line answer.
function admin(addr, command) {
  const [host, port] = addr.split(":");
  return new Promise((ok, fail) => {
    const s = createConnection({ host, port: Number(port) }, () => s.write(command + "\n"));
    s.setEncoding("utf8");
    s.on("data", (d) => { s.end(); ok(d.trim()); });
    s.on("error", fail);
  });
}

async function api(base, method, body, pin = PIN) {
  const res = await fetch(`${base}/${method}`, { method: "POST", headers: { Authorization: pin }, body: JSON.stringify(body) });
  const env = await res.json();
  assert.equal(env.response_code, 0, `${method}: ${JSON.stringify(env)}`);
  return env.response_data;
}

async function main() {
  const data = mkdtempSync(join(tmpdir(), "kassa-status-"));
  const profile = mkdtempSync(join(tmpdir(), "kassa-chromium-"));
  const emu = start(["ofd-emulator", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"], ["ofd", "admin"], {});
  let server, browser;
  try {
    const ofd = await emu.ready;
    const config = join(data, "kassa.toml");
    writeFileSync(config, `[[ofd]]\nuid = "4C49A0CB1DD4413387F6E6199CBB1B2A"\nname = "test rig"\nendpoint = "${ofd.ofd}"\n` +
      `emulator = true\nconsumer_url = "http://consumer.test-oofd.kz"\n[ofd_link]\ntotal_time_ms = 1000\n`);
    server = start(["serve", "--listen", "127.0.0.1:0", "--data-dir", join(data, "data"), "--config", config], ["api"],
      { KASSA_ADMIN_PIN: PIN });
    const base = `http://${(await server.ready).api}`;
    await api(base, "SaveKKM", { ofd_id: 6923, ofd_token: 59359406, ofd_uid: "4C49A0CB1DD4413387F6E6199CBB1B2A", local_name: "Касса 1" });
    await api(base, "SaveOperator", { name: "Айгерім", access_pin: "5555", role: 3, bindings: [1] });
    assert.equal(await admin(ofd.admin, "fault drop-before 1000000"), "ok");
    const sale = await api(base, "TradeOperation", {
      kkm_ofd_id: 6923, operation: 2, payments: [{ type: 0, sum: 450 }],
      items: [{ type: 1, commodity: { name: "Нан", section_code: "1", quantity: 1, price: 450, measure_unit_code: "796" } }],
    });
    assert.equal(sale.is_offline, true, "the sale went autonomous");

    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
      viewport: { width: 1280, height: 800 },
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    });
    const page = browser.pages()[0] || (await browser.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${base}/status`);

    // Refusals are sentences, never a constant name.
    const signIn = async (pin) => {
      await page.fill("#pin", pin);
      await page.click("#login button");
    };
    await signIn("1111");
    await page.waitForFunction(() => document.querySelector("#message").classList.contains("bad"));
    const wrong = await page.textContent("#message");
    assert.match(wrong, /That PIN is not right/);
    assert.ok(!/invalid_access_code/.test(wrong), wrong);
    assert.ok(await page.isHidden("#app"));
    await signIn("5555");
    await page.waitForFunction(() => /cashier/.test(document.querySelector("#message").textContent));
    assert.ok(await page.isHidden("#app"));

    await signIn(PIN);
    await page.waitForSelector("#app:not([hidden])");
    const kkm = page.locator('[data-kkm="6923"]');
    await kkm.waitFor();
    const text = await kkm.textContent();
    assert.match(text, /Касса 1 · 6923/);
    assert.match(text, /autonomous/);
    assert.match(text, /1 document\(s\)/);
    assert.match(text, /shift 1, № 1/, "the oldest unsent document");
    assert.match(text, /7[12]\.\d h of 72 h/, "hours left of the autonomous limit");
    assert.match(text, /Working autonomously/, "what to do");
    assert.match(await kkm.getAttribute("class"), /warn/);
    assert.ok(await page.isHidden("#devices-title"), "the KKM's own ledger device is not shown again among other countries'");
    assert.match(await page.textContent("#summary"), /Ready/);
    const printer = await page.locator("[data-printer]").first().textContent();
    assert.match(printer, /virtual/);
    if (shots) { mkdirSync(shots, { recursive: true }); await page.screenshot({ path: join(shots, "status.png"), fullPage: true }); }

    // A tablet: the cards stack, nothing runs off the side.
    await page.setViewportSize({ width: 768, height: 1024 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a tablet`);
    if (shots) await page.screenshot({ path: join(shots, "status-tablet.png"), fullPage: true });
    assert.deepEqual(errors, [], "no script errors in the page");
    console.log("status browser test: ok");
  } finally {
    if (browser) await browser.close();
    if (server) server.child.kill("SIGTERM");
    emu.child.kill("SIGTERM");
    rmSync(profile, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error("status browser test FAILED:", e);
  process.exit(1);
});
