// The HTTP message types shared by the router, problem helpers and the session.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace encore::api {

namespace http = boost::beast::http;

// Bodies are bounded by Limits::body_limit_bytes before a handler sees them, so a string body
// (one allocation, easy to hash for idempotency) is the simple right choice.
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace encore::api
