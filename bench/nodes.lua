-- wrk script for bench/nodes.sh: TradeOperation sales over KKMs FIRST..FIRST+COUNT-1 (KASSA_KKM_FIRST,
-- KASSA_KKM_COUNT), each connection on its own KKM in turn; prints one LOAD line with the answers that were
-- not response_code 0 counted as bad.
local first = tonumber(os.getenv("KASSA_KKM_FIRST") or "7001")
local count = tonumber(os.getenv("KASSA_KKM_COUNT") or "8")
local pin = os.getenv("KASSA_PIN") or "4321"
local threads = {}
local n = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  good, bad = 0, 0
end

request = function()
  n = n + 1
  local body = string.format('{"kkm_ofd_id":%d,"operation":2,"items":[{"type":1,"commodity":{"name":"Нан %d",' ..
    '"section_code":"1","quantity":1,"price":100,"measure_unit_code":"796"}}],"payments":[{"type":0,"sum":100}]}',
    first + n % count, n)
  return wrk.format("POST", "/TradeOperation", {["Content-Type"] = "application/json", ["Authorization"] = pin}, body)
end

response = function(status, headers, body)
  if string.find(body, '"response_code":0', 1, true) then good = good + 1 else bad = bad + 1 end
end

done = function(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad")
  end
  io.write(string.format("LOAD ok=%d bad=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n", g, b,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
