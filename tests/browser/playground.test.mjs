// The template playground in a real browser: Debian's chromium driven by playwright-core.
//
// Starts the real `kassa serve` (KASSA_BIN, default target/debug/kassa) on a free loopback port with a
// fresh data folder, makes a sale through the API, then in the page: signs in with the administrator
// PIN, changes a template line and sees the preview change, introduces a mistake and sees it marked at
// its line, fixes it, saves, and checks over the API that the next receipt uses the saved template
// while the earlier receipt reprints unchanged. Exits non-zero on any failure.
// KASSA_SCREENSHOTS=DIR also writes the README's screenshots there.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const started = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.KASSA_BIN || resolve(here, "../../target/debug/kassa");
const shots = process.env.KASSA_SCREENSHOTS;
const PIN = "8642";
const MARK = "ТЕСТ ПЕСОЧНИЦЫ";

// Starts `kassa serve` on port 0 and resolves with its base URL once it prints `listening api <address>`.
function serve(data) {
  const server = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", data], {
    env: { ...process.env, KASSA_ADMIN_PIN: PIN, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const listening = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("the server did not say where it listens within 30 s")), 30000);
    server.on("exit", (code) => fail(new Error(`the server exited (${code}) before it listened`)));
    createInterface({ input: server.stdout }).on("line", (line) => {
      const [word, name, addr] = line.split(" ");
      if (word === "listening" && name === "api") {
        clearTimeout(timer);
        ok(`http://${addr}`);
      }
    });
  });
  return { server, listening };
}

async function api(base, method, body) {
  const res = await fetch(`${base}/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: PIN },
    body: JSON.stringify(body),
  });
  const env = await res.json();
  assert.equal(env.response_code, 0, `${method}: ${JSON.stringify(env)}`);
  return env.response_data;
}

const sale = (sum, name) => ({
  kkm_ofd_id: 6923, operation: 2, is_printable: false,
  items: [{ type: 1, commodity: { name, section_code: "1", quantity: 1, price: sum, measure_unit_code: "796" } }],
  payments: [{ type: 0, sum }], amounts: { total: sum },
});

const receiptText = async (base, t) =>
  (await api(base, "RenderDocument", {
    kkm_ofd_id: 6923, fr_shift_number: t.fr_shift_number, shift_document_number: t.shift_document_number, format: "txt",
  })).content;

// A greyscale PNG: a shaded disc (the kind of logo a threshold ruins and dithering keeps).
function logoPng(size) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const head = Buffer.alloc(13);
  head.writeUInt32BE(size, 0); head.writeUInt32BE(size, 4); head[8] = 8; head[9] = 0;
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(size + 1);
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - size / 2, y - size / 2) / (size / 2);
      row[x + 1] = d > 1 ? 255 : Math.round(40 + 180 * (x / size));
    }
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", head),
    chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

async function main() {
  const data = mkdtempSync(join(tmpdir(), "kassa-playground-"));
  const profile = mkdtempSync(join(tmpdir(), "kassa-chromium-"));
  const { server, listening } = serve(data);
  let browser;
  try {
    const base = await listening;
    await api(base, "SaveKKM", {
      local_name: "Test_6923", ofd_id: 6923, ofd_token: 59359406, ofd_uid: "4C49A0CB1DD4413387F6E6199CBB1B2A",
      use_software_vpn: false, auto_withdraw_money: false, custom_data: null, bindings: [],
      vat_certificate: { series: "", number: "", is_printable: false }, printer: { id: 1, name: "RPP300", type: 3 },
    });
    const first = await api(base, "TradeOperation", sale(450, "Қымыз 0,5 л"));
    const firstText = await receiptText(base, first);
    assert.ok(!firstText.includes(MARK));

    const launched = Date.now();
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    const launchSeconds = (Date.now() - launched) / 1000;
    const page = browser.pages()[0] || (await browser.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${base}/playground`);

    // A wrong PIN is refused; the administrator's opens the playground.
    await page.fill("#pin", "0000");
    await page.click("#login button");
    await page.waitForFunction(() => document.querySelector("#status").classList.contains("bad"));
    assert.ok(await page.isHidden("#app"));
    const refused = await page.textContent("#status");
    assert.match(refused, /That PIN is not right/, "a wrong PIN is a sentence");
    assert.ok(!/invalid_access_code/.test(refused), refused);
    await page.fill("#pin", PIN);
    await page.click("#login button");
    await page.waitForSelector("#app:not([hidden])");
    await page.waitForFunction(() => document.querySelector("#preview-text").textContent.includes("1008") ||
      document.querySelector("#preview-text").textContent.length > 100);
    // The journal's document is offered first, with the bundled samples.
    const docs = await page.$$eval("#document option", (os) => os.map((o) => o.value));
    assert.ok(docs[0].startsWith("doc:6923:"), docs.join(", "));
    assert.ok(docs.includes("sample:ticket_sale"));
    await page.selectOption("#document", docs[0]);
    await page.waitForFunction((fid) => document.querySelector("#preview-text").textContent.includes(fid), first.fiscal_id);

    // 1. Change a line by typing, as a person would: the preview follows.
    const source = await page.inputValue("#editor");
    const lines = source.split("\n");
    const at = lines.findIndex((l) => l.includes("fiscal_receipt"));
    assert.ok(at >= 0, "the built-in ticket prints the fiscal receipt heading");
    const offset = (line, col) => lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + col;
    const select = (from, to) =>
      page.evaluate(([a, b]) => { const e = document.getElementById("editor"); e.focus(); e.setSelectionRange(a, b); }, [from, to]);
    const pngBefore = await page.getAttribute("#preview-png", "src");
    await select(offset(at, lines[at].length), offset(at, lines[at].length));
    await page.keyboard.type(`\n@center bold: ${MARK}`);
    lines.splice(at + 1, 0, `@center bold: ${MARK}`);
    assert.equal(await page.inputValue("#editor"), lines.join("\n"));
    await page.waitForFunction((m) => document.querySelector("#preview-text").textContent.includes(m), MARK);
    assert.notEqual(await page.getAttribute("#preview-png", "src"), pngBefore, "the PNG preview changed");

    // 2. A mistyped style word is marked at its own line and column; saving is off.
    const line = at + 2; // 1-based line of the typed text
    await select(offset(at + 1, 8), offset(at + 1, 12)); // "bold"
    await page.keyboard.type("blnk");
    await page.waitForSelector(`#gutter .ln.error[data-line="${line}"]`);
    // The check runs as one types: wait for the last keystroke's verdict, not the first one's ("b").
    const badAt = `#highlight .line.error[data-line="${line}"] .bad`;
    await page
      .waitForFunction((sel) => document.querySelector(sel)?.textContent === "blnk", badAt, { timeout: 10_000 })
      .catch(() => {});
    const bad = await page.textContent(badAt);
    assert.equal(bad, "blnk");
    await page
      .waitForFunction(() => document.querySelector("#diagnostics li")?.textContent.includes("blnk"), null, { timeout: 10_000 })
      .catch(() => {});
    const problem = await page.textContent("#diagnostics li");
    assert.ok(problem.includes(`line ${line}, column 9`) && problem.includes("blnk"), problem);
    assert.ok(await page.isDisabled("#save"));
    assert.ok(!(await page.textContent("#preview-text")).includes(MARK), "the faulty line is never printed");
    await page.click("#diagnostics li"); // jumps to the line
    if (shots) {
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, "playground-error.png") });
    }

    // 3. Fix it and save.
    await select(offset(at + 1, 8), offset(at + 1, 12));
    await page.keyboard.type("bold");
    await page.waitForSelector("#diagnostics li.ok");
    await page.waitForFunction((m) => document.querySelector("#preview-text").textContent.includes(m), MARK);
    assert.ok(await page.isEnabled("#save"));
    await page.click("#save");
    await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Saved"));
    assert.equal(await page.textContent("#origin"), "shared override");
    if (shots) {
      await page.screenshot({ path: join(shots, "playground.png") });
      await page.click('[data-tab="escpos"]');
      await page.screenshot({ path: join(shots, "playground-escpos.png") });
    }
    assert.deepEqual(errors, [], "no script errors in the page");
    const browserSeconds = (Date.now() - launched) / 1000;

    // 5. A logo file beside the template: `@image logo.png 50%` shows, scaled and dithered, in the preview.
    mkdirSync(join(data, "templates"), { recursive: true });
    writeFileSync(join(data, "templates", "logo.png"), logoPng(120));
    await page.click('[data-tab="png"]');
    const heightBefore = await page.$eval("#preview-png", (img) => img.naturalHeight);
    await select(offset(at, 0), offset(at, 0)); // above the receipt heading
    await page.keyboard.type("@image logo.png 50%\n");
    await page.waitForFunction((h) => document.querySelector("#preview-png").naturalHeight > h + 150, heightBefore, { timeout: 5000 })
      .catch(async (e) => { console.error(await page.textContent("#diagnostics"), await page.textContent("#status")); throw e; });
    await page.waitForSelector("#diagnostics li.ok");
    if (shots) await page.screenshot({ path: join(shots, "playground-logo.png") });

    // 4. The server prints the next receipt with the saved template; the earlier one reprints as it was.
    const next = await api(base, "TradeOperation", sale(300, "Сүт"));
    assert.ok((await receiptText(base, next)).includes(MARK), "the next receipt uses the saved template");
    assert.equal(await receiptText(base, first), firstText, "a reprint keeps its template version");

    // 6. Saving again keeps the replaced version: the history compares it with the editor and restores it.
    const withLogo = await page.inputValue("#editor");
    await page.click("#save");
    await page.waitForFunction(() => /^1 earlier version/.test(document.querySelector("#history").textContent));
    assert.ok(await page.isHidden("#dirty"), "saved: no unsaved changes");
    await page.click("#history-open");
    await page.waitForSelector("#versions li[data-version]");
    await page.click('#versions li[data-version] [data-action="compare"]');
    await page.waitForSelector("#version-view .add");
    assert.match(await page.textContent("#version-view .add"), /^\+ @image logo\.png 50%/);
    await page.click('#versions li[data-version] [data-action="view"]');
    await page.waitForFunction(() => document.querySelector("#version-title").textContent.startsWith("Version replaced"));
    assert.ok((await page.textContent("#version-view")).includes(MARK));
    assert.ok(!(await page.textContent("#version-view")).includes("@image"), "the version before the logo");
    await page.click('#versions li[data-version] [data-action="restore"]');
    await page.waitForFunction(() => !document.querySelector("#history-dialog").open);
    assert.ok(!(await page.inputValue("#editor")).includes("@image"), "restored into the editor");
    assert.ok(await page.isVisible("#dirty"), "a restored version is an unsaved change");

    // 7. Unsaved edits are never lost without a question: Reload, Built-in, the kind, the page itself.
    const asked = [];
    // One dialog per action, answered before the next action starts: a handler registered for the next
    // dialog while this one is still on its way would answer it twice (a race seen on a loaded machine).
    const answer = async (accept, action) => {
      const shown = page.waitForEvent("dialog");
      const acted = action();
      const d = await shown;
      asked.push(d.type());
      await (accept ? d.accept() : d.dismiss());
      await acted;
    };
    const restored = await page.inputValue("#editor");
    await answer(false, () => page.click("#revert"));
    await answer(false, () => page.click("#builtin"));
    await answer(false, () => page.selectOption("#kind", "x_report"));
    assert.equal(await page.inputValue("#kind"), "ticket", "a dismissed switch stays on the kind being edited");
    assert.equal(await page.inputValue("#editor"), restored, "the edits are still there");
    const unload = page.waitForEvent("dialog");
    page.evaluate(() => location.reload()).catch(() => {});
    const leaving = await unload;
    asked.push(leaving.type());
    await leaving.dismiss();
    assert.equal(await page.inputValue("#editor"), restored, "a dismissed reload keeps the page and its edits");
    assert.deepEqual(asked, ["confirm", "confirm", "confirm", "beforeunload"]);
    await answer(true, () => page.click("#revert"));
    await page.waitForFunction((t) => document.querySelector("#editor").value === t, withLogo);
    assert.ok(await page.isHidden("#dirty"));

    // 8. A stale preview is greyed until the next one arrives.
    const greyed = await page.evaluate(() => {
      const e = document.getElementById("editor");
      e.value += "\n@rule";
      e.dispatchEvent(new Event("input"));
      return document.getElementById("preview").classList.contains("stale");
    });
    assert.ok(greyed, "greyed while the next preview renders");
    await page.waitForFunction(() => !document.getElementById("preview").classList.contains("stale"));

    // 9. Insert buttons, the variables panel, a logo upload.
    await page.click('[data-insert="@cut"]');
    assert.match(await page.inputValue("#editor"), /\n@cut(\n|$)/);
    await page.click('[data-insert="@center bold: "]');
    await page.click("#variables-box summary");
    await page.fill("#variables-filter", "amounts.total");
    await page.click('#variables li:has(code:text-is("body.amounts.total"))');
    assert.ok((await page.inputValue("#editor")).includes("\n@center bold: {{ body.amounts.total | money }}"));
    await page.setInputFiles("#logo", { name: "shop logo.png", mimeType: "image/png", buffer: logoPng(80) });
    await page.waitForFunction(() => document.querySelector("#editor").value.includes("\n@image shop_logo.png 50%"));
    assert.ok(existsSync(join(data, "templates", "shop_logo.png")),
      "the logo is beside the templates");
    await page.waitForSelector("#diagnostics li.ok");

    // 10. Zoom and download of the preview.
    await page.click('[data-tab="png"]');
    await page.selectOption("#zoom", "2");
    const zoomed = await page.$eval("#preview-png", (img) => img.getBoundingClientRect().width / img.naturalWidth);
    assert.ok(Math.abs(zoomed - 2) < 0.01, `zoom ${zoomed}`);
    const [file] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    assert.equal(file.suggestedFilename(), "ticket.png");
    const saved = join(profile, "download.png");
    await file.saveAs(saved);
    assert.deepEqual([...readFileSync(saved).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    await page.click('[data-tab="escpos"]');
    const [escpos] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    assert.equal(escpos.suggestedFilename(), "ticket.escpos");
    await page.click('[data-tab="png"]');
    await page.selectOption("#zoom", "1");

    // 11. From 1024 px down to a tablet: nothing runs off the side, editor and preview both usable.
    for (const [width, height, name] of [[1024, 768, "playground-1024.png"], [768, 1024, "playground-tablet.png"]]) {
      await page.setViewportSize({ width, height });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${width} px: the page is ${overflow} px too wide`);
      for (const id of ["#editor-box", "#preview", "#kind", "#save"]) {
        const box = await page.locator(id).boundingBox();
        const least = id === "#editor-box" || id === "#preview" ? 300 : 20;
        assert.ok(box && box.width > least && box.x >= 0 && box.x + box.width <= width + 1, `${width} px: ${id} ${JSON.stringify(box)}`);
      }
      if (shots) await page.screenshot({ path: join(shots, name) });
    }
    assert.deepEqual(errors, [], "no script errors in the page");

    console.log(`playground browser test: ok (chromium start ${launchSeconds.toFixed(1)} s, browser part ` +
      `${browserSeconds.toFixed(1)} s, whole test ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    if (browser) await browser.close();
    server.kill("SIGTERM");
    rmSync(profile, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error("playground browser test FAILED:", e);
  process.exit(1);
});
