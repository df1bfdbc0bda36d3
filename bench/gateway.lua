-- wrk script for bench/gateway.sh: the same POST /v1/chat/completions through every target.
-- `wrk ... -s bench/gateway.lua URL -- stream` asks for a streamed answer with usage (model
-- fake-stream, whose upstream answers SSE); without `stream`, a plain completion (model fake,
-- whose upstream answers JSON). nginx direct ignores the body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
    if args[1] == "stream" then
        wrk.body = '{"model":"fake-stream","stream":true,"stream_options":{"include_usage":true},'
            .. '"messages":[{"role":"user","content":"Say hello."}]}'
    else
        wrk.body = '{"model":"fake","messages":[{"role":"user","content":"Say hello."}]}'
    end
end
