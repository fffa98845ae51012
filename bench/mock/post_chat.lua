-- bench/mock/post_chat.lua: wrk script, POST an OpenAI chat completion (JSON).
--   wrk -t2 -c64 -d5s -s bench/mock/post_chat.lua http://127.0.0.1:PORT/v1/chat/completions
-- Set STREAM=1 in the environment for "stream": true with include_usage.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-mock"
local stream = os.getenv("STREAM") == "1"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},' ..
  '{"role":"user","content":"Write one short sentence about the sea."}]' ..
  (stream and ',"stream":true,"stream_options":{"include_usage":true}' or '') .. '}'

local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non-200 responses (last thread): %d\n", bad))
end
