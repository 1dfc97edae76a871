-- wrk script: alternate POST /message and GET /message on each connection, so every pair
-- sends one message and takes one off the queue.
local n = 0
request = function()
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("POST", "/message", { ["Content-Type"] = "application/json" },
      '{"message":"benchmark message"}')
  end
  return wrk.format("GET", "/message")
end
