-- wrk script: POST /api/v1/registrations, each with a new phone number: the engine checks the
-- form, draws a code, stores the registration and sends the SMS through the SMS mock over HTTP.
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"surname":"Иванов","name":"Иван","phone":"+79%09d"}', n)
  return wrk.format("POST", "/api/v1/registrations", { ["Content-Type"] = "application/json" }, body)
end
