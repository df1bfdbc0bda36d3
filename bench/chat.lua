-- wrk script: POST /chat with the rules model (each request starts a new session).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"message":"こんにちは"}'
