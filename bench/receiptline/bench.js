// Renders a receipt equivalent to tests/fixtures/ticket_20_items_kk.json with receiptline
// (markdown -> ESC/POS and text) and prints ms per document, for comparison with
// `cargo bench --bench render`. Run: npm install && node bench.js
'use strict';
const fs = require('fs');
const path = require('path');
const receiptline = require('receiptline');

const doc = JSON.parse(fs.readFileSync(path.join(__dirname, '../../tests/fixtures/ticket_20_items_kk.json'), 'utf8'));
const money = m => {
    const t = (m.bills || 0) * 100 + (m.coins || 0);
    const s = String(Math.floor(t / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
    return `${s}.${String(t % 100).padStart(2, '0')}`;
};
const qty = q => (q % 1000 === 0 ? String(q / 1000) : (q / 1000).toString());
// receiptline escapes: \ | { } ~ _ " ` ^ are markup characters.
const esc = s => String(s).replace(/[\\|{}~_"`^]/g, c => '\\' + c);
const b = doc.body, org = doc.reg_info.org, kkm = doc.reg_info.kkm;
const lines = [];
lines.push(`^"${esc(org.title)}"`, `БСН/ЖСН ${esc(org.inn)}`, esc(doc.reg_info.pos.title), esc(doc.reg_info.pos.address), '-');
for (const [k, v] of [['ЗНМ', kkm.serial_number], ['ТНМ', kkm.fns_kkm_id], ['БКМ', doc.kkm_local_name],
    ['АУЫСЫМ', doc.fr_shift_number], ['РЕТТІК НӨМІРІ', doc.shift_document_number], ['КАССИР', doc.operator_name]]) {
    lines.push(`${esc(k)} | ${esc(v)}`);
}
lines.push('-', '"ФИСКАЛДЫҚ ЧЕК"', '^САТУ', '-');
let n = 0;
for (const it of b.itemsList) {
    if (it.type === 1) {
        const c = it.commodity;
        lines.push(`${++n}. ${esc(c.name)}`, `${qty(c.quantity)} x ${money(c.price)} | = ${money(c.sum)}`);
    } else if (it.type === 5) {
        lines.push(`${esc(it.discount.name)} | -${money(it.discount.sum)}`);
    }
}
lines.push('-', `^БАРЛЫҒЫ | ^${money(b.amounts.total)}`);
for (const p of b.paymentsList) lines.push(`${p.type === 0 ? 'ҚОЛМА-ҚОЛ АҚША' : 'БАНК КАРТАСЫ'} | ${money(p.sum)}`);
lines.push(`АЛЫНДЫ | ${money(b.amounts.taken)}`, `ҚАЙТАРЫМ | ${money(b.amounts.change)}`);
for (const t of b.taxesList) lines.push(`СОНЫҢ ІШІНДЕ ҚҚС ${t.percent / 1000}% | ${money(t.sum)}`);
lines.push('-', `ФБ | ${esc(doc.fiscal_id)}`, `{code:${esc(doc.qr_code)}; option:qrcode,5,m}`,
    `ФДО: ${esc(doc.ofd_name)}`, esc(doc.ofd_url), '-');
for (const ad of doc.ads_info) for (const l of ad.Text.replace('${ticket_number}', doc.fiscal_id).split('\n')) lines.push(esc(l));
lines.push('"ФИСКАЛДЫҚ ЧЕК"', '=');
const markdown = lines.join('\n');

// Mean ms per document: the best of five 200 ms windows (as benches/render.rs does), by the wall clock and by
// the process's CPU time (user + system, which counts node's helper threads too): on a machine busy with
// other work the CPU figure moves less.
function time(printer) {
    for (let i = 0; i < 20; i++) receiptline.transform(markdown, printer);
    let best = Infinity, bestCpu = Infinity, out;
    for (let w = 0; w < 5; w++) {
        const start = process.hrtime.bigint();
        const cpu0 = process.cpuUsage();
        let n = 0;
        while (Number(process.hrtime.bigint() - start) < 200e6 || n < 5) {
            out = receiptline.transform(markdown, printer);
            n++;
        }
        const cpu = process.cpuUsage(cpu0);
        best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / n);
        bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e3 / n);
    }
    return [best, bestCpu, out.length];
}
console.log(`receiptline ${require('receiptline/package.json').version}, node ${process.version}`);
console.log('format                  cpl    ms/doc   bytes  cpu ms/doc');
for (const cpl of [32, 48]) {
    for (const [label, printer] of [
        ['escpos (cp866)', { cpl, encoding: 'cp866', command: 'escpos' }],
        ['generic escpos (cp866)', { cpl, encoding: 'cp866', command: 'generic' }],
        ['text', { cpl, encoding: 'cp866', command: 'text' }],
    ]) {
        const [ms, cpu, bytes] = time(printer);
        console.log(`${label.padEnd(22)} ${String(cpl).padStart(4)} ${ms.toFixed(4).padStart(9)} ${String(bytes).padStart(7)} ${cpu.toFixed(4).padStart(11)}`);
    }
}
