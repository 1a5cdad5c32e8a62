-- wrk script: POST /mocks/sms/messages, each request to a new phone number (+79000000001,
-- +79000000002, ...). Used for the SMS mock's memory and throughput figures in benches/README.md,
-- and unchanged against the bare hyper server and wiremock (they ignore the body).
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"to":"+79%09d","text":"Код подтверждения: 123456. Никому не сообщайте его."}', n)
  return wrk.format("POST", "/mocks/sms/messages", { ["Content-Type"] = "application/json" }, body)
end
