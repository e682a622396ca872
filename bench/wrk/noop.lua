-- GET /v1/noop: TLS + HTTP parse/serialize + routing + access log, no auth, no ledger.
wrk.method = "GET"
wrk.path = "/v1/noop"
