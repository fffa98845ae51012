-- bench/gateway/chat.lua: wrk script of the gateway benchmark. POSTs the
-- JSON chat completion in $BODY_FILE; headers come from wrk -H (auth, Portkey's
-- routing headers). wrk's summary counts non-2xx responses.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
