-- wrk script: TradeOperation sales over KKMs 7001..(7000+KASSA_KKMS), each on a new connection ("Connection:
-- close"), as a POS app that does not keep connections open. Prints one LOAD line like the anchor's script.
local kkms = tonumber(os.getenv("KASSA_KKMS") or "8")
local pin = os.getenv("KASSA_PIN") or "4321"
local n = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  failed = 0
end

request = function()
  n = n + 1
  local body = string.format('{"kkm_ofd_id":%d,"operation":2,"items":[{"type":1,"commodity":{"name":"Хлеб %d",' ..
    '"section_code":"1","quantity":1,"price":100,"sum":100,"measure_unit_code":"796"}}],' ..
    '"payments":[{"type":0,"sum":100}]}', 7001 + (n % kkms), n)
  return wrk.format("POST", "/TradeOperation",
    {["Content-Type"] = "application/json", ["Authorization"] = pin, ["Connection"] = "close"}, body)
end

response = function(status, headers, body)
  if string.find(body, '"response_code":0', 1, true) then ok = ok + 1 else failed = failed + 1 end
end

done = function(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("ok")
    b = b + t:get("failed")
  end
  io.write(string.format("LOAD ok=%d bad=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n", g, b,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
