// A POS written against the TypeScript client generated from docs/openapi.json (openapi-typescript types,
// openapi-fetch calls): a sale, its return, X, Z and a journal query, type-checked by tsc and run by node.
// Usage: node smoke.js http://127.0.0.1:PORT (KKM 6923 saved, administrator PIN 0000).
import createClient from "openapi-fetch";
import type { components, paths } from "./kassa.js";

type Answer = components["schemas"]["DocumentAnswer"];
type Envelope<T> = { response_code: 0; response_data: T } | components["schemas"]["ErrorEnvelope"];

const base = process.argv[2];
const client = createClient<paths>({ baseUrl: base, headers: { Authorization: "0000" } });

function fail(what: string, detail: unknown): never {
  console.error(`typescript client: ${what}: ${JSON.stringify(detail)}`);
  process.exit(1);
}

function read<T>(what: string, answer: { data?: Envelope<T>; error?: unknown }): T {
  const data = answer.data;
  if (data === undefined || data.response_code !== 0) fail(what, answer.error ?? data);
  return data.response_data;
}

const sale = (operation: number) => ({
  kkm_ofd_id: 6923,
  operation,
  items: [{ type: 1, commodity: { name: "Нан", section_code: "1", quantity: 2, price: 350, sum: 700, measure_unit_code: "796" } }],
  payments: [{ type: 0, sum: 1000 }],
  taxes: [{ taxation_type: 100, percent: 12, sum: 75, is_in_total_sum: true }],
  amounts: { total: 700, taken: 1000, change: 300 },
});

const sold: Answer = read("the sale", await client.POST("/TradeOperation", { body: sale(2) }));
if (!sold.fiscal_id || sold.ads_info.length === 0 || sold.body["amounts"] === undefined) fail("the sale", sold);
const back: Answer = read("the return", await client.POST("/TradeOperation", { body: sale(3) }));
if (back.shift_document_number !== sold.shift_document_number + 1) fail("the return", back);
const x: Answer = read("the X report", await client.POST("/ZXReport", { body: { kkm_ofd_id: 6923, report_type: 1 } }));
if (JSON.stringify(x.total_payments) !== "[0,0,0,0,0]") fail("the X report", x.total_payments);
const z: Answer = read("the Z report", await client.POST("/ZXReport", { body: { kkm_ofd_id: 6923, report_type: 0 } }));
if (z.shift_state !== 0) fail("the Z report", z);
const journal = read("the journal", await client.POST("/GetTransactionList", { body: { kkm_ofd_id: 6923 } }));
const commands: number[] = journal.map((entry) => entry.command);
if (JSON.stringify(commands.slice(-4)) !== "[1,1,3,2]") fail("the journal", commands);
console.log("typescript client: sale, return, X, Z and journal read");
