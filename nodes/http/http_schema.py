"""The http-request node's config schema: its form, validation and reference docs."""

from __future__ import annotations

from typing import Any

from portless.nodes.http.http_response import RETURN_AS
from portless.nodes.tls import tls_schema
from portless.runtime import fields_are

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "msg.method"]
MIB = 1024 * 1024

_SOURCE = {"enum": ["text", "msg"], "default": "text"}

DESCRIPTION = (
    "Sends an HTTP(S) request for each message and sends the message on with the "
    "answer: `payload` (the body as text, bytes or parsed JSON), `statusCode`, "
    "`headers` (lower-case names; `set-cookie` a list), `responseUrl` (after "
    "redirects), `redirectList` (`location`, and `cookies` where the redirect set "
    "some) and `responseCookies`. The request is outbound, as MQTT is: it opens no "
    "port (portless has no http-in, websocket-in, tcp-in or udp-in).\n\n"
    "The message may give `url` (where the node has none; `{{property}}` in the "
    "node's URL is filled from the message), `method` (with `msg.method`), `headers`, "
    "`cookies` (`{name: value}` or `{name: {value, encode}}`), `payload` (the body: "
    "text and bytes as they are, a number as text, anything else as JSON, or as a "
    "form with Content-Type application/x-www-form-urlencoded or multipart/form-data), "
    "`requestTimeout` (ms) and `followRedirects`. Response headers passed on unchanged "
    "to a second request are not sent again.\n\n"
    "A request that fails (no connection, a refused certificate, no answer within "
    "the timeout, a body above `max_response_bytes`, too many redirects, an answer "
    "that is not valid HTTP) is an error tied to the message, so a catch node takes "
    "it; unless `errors_to_catch_only`, the message is also sent on with the error "
    "text as `payload` and a code as `statusCode` (`ETIMEDOUT`, `ECONNREFUSED`, "
    "`ECONNRESET`, `ENOTFOUND`, `ECERT`, `ETLS`, `EPROXY`, `EAUTH`, `ETOOLARGE`, "
    "`ERR_TOO_MANY_REDIRECTS`, `EREDIRECT`, `HPE_INVALID`); the URL's query is left out "
    "of the error, so a key in it is not logged. An answer with "
    "any status (404, 500) is a normal message. A message that cannot become a "
    "request (no URL, a scheme other than http(s), a header with a line break) is an "
    "error and is not sent on.\n\n"
    "Messages are handled one at a time, in order, behind the node's input queue. "
    "Credentials are sent only to the host of the request's first URL (a redirect "
    "elsewhere drops them); with credentials, give the URL in the node rather than "
    "in msg.url, which would decide where they go.\n\n"
    "Differences from Node-RED, on purpose: requests from one node are made one at "
    "a time (Node-RED makes them all at once); the body is bounded "
    "(`max_response_bytes`), as is the number of redirects; `msg.rejectUnauthorized` "
    "is ignored with a warning (certificate checks are the node's `tls` config, never "
    "a message's); "
    "`{{}}` placeholders insert the value as it is (Mustache would HTML-escape `&` in "
    "a URL); a compressed answer is decompressed; Content-Length is always the "
    "body's; a 303 redirect becomes a GET, other redirects keep the method; digest "
    "auth supports MD5, SHA, SHA-256 and SHA-512 and their -sess forms, but not "
    "Node-RED's SHA-512-256, which is a truncated SHA-512 rather than RFC 7616's; "
    "there is no `insecureHTTPParser`: an answer that is not valid HTTP is refused "
    "(a header with a control character too), though bare line feeds are read, as "
    "Node.js reads them only with insecureHTTPParser.")

SCHEMA: dict[str, Any] = {
    "title": "HTTP request",
    "description": DESCRIPTION,
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "method": {"title": "Method", "enum": METHODS, "default": "GET",
                   "description": "`msg.method`: the message's `method` (any method)."},
        "url": {"title": "URL", "type": "string", "default": "", "x-destination": True,
                "description": "http:// or https:// (added where missing: https with a "
                               "`tls` config); `{{property}}` is a message property. "
                               "Empty: msg.url."},
        "get_payload": {
            "title": "Payload of a GET", "enum": ["ignore", "query", "body"],
            "default": "ignore",
            "description": "`query`: an object payload appended as the query string; "
                           "`body`: sent as the body; `ignore`: not sent."},
        "headers": {
            "title": "Headers", "type": "array", "default": [], "maxItems": 100,
            "description": "Set after msg.headers, so these win; an empty value removes "
                           "the header.",
            "items": {"type": "object", "additionalProperties": False,
                      "required": ["name", "value"], "properties": {
                          "name": {"title": "Name", "type": "string"},
                          "name_from": {"title": "Name is", **_SOURCE,
                                        "description": "`msg`: the name is the value of "
                                                       "this message property."},
                          "value": {"title": "Value", "type": "string"},
                          "value_from": {"title": "Value is", **_SOURCE,
                                         "description": "`msg`: the value of this "
                                                        "message property."}}}},
        "response_as": {
            "title": "Return", "enum": list(RETURN_AS), "default": "text",
            "description": "`text`: UTF-8 text; `bytes`; `json`: parsed (a body that is "
                           "not JSON is a warning and the text; 204 is {})."},
        "auth_type": {"title": "Authentication", "enum": ["none", "basic", "digest", "bearer"],
                      "default": "none",
                      "description": "`none` still sends user:password given in the URL "
                                     "as basic auth."},
        "username": {"x-show-if": fields_are(auth_type=("basic", "digest")),
                     "title": "Username", "type": "string", "default": "",
                     "description": "Basic and digest. Use ${ENV} to keep it out of the "
                                    "flow file."},
        "password": {"x-show-if": fields_are(auth_type=("basic", "digest")),
                     "title": "Password", "type": "string", "default": "",
                     "writeOnly": True,
                     "description": "Basic and digest. Use ${ENV}."},
        "token": {"x-show-if": fields_are(auth_type="bearer"),
                  "title": "Bearer token", "type": "string", "default": "",
                  "writeOnly": True, "description": "Use ${ENV}."},
        "tls": tls_schema("server", "the system's CAs (https is still verified)"),
        "proxy": {"title": "Proxy", "type": "string", "default": "", "x-destination": True,
                  "description": "http://host:port. Empty: HTTP_PROXY, HTTPS_PROXY and "
                                 "NO_PROXY from the environment."},
        "no_proxy": {"title": "No proxy for", "type": "array", "default": [],
                     "maxItems": 100, "items": {"type": "string"},
                     "description": "Hosts reached directly despite `proxy` (a name also "
                                    "covers its subdomains; host:port; * for all)."},
        "proxy_username": {"title": "Proxy username", "type": "string", "default": "",
                           "description": "Empty for none."},
        "proxy_password": {"title": "Proxy password", "type": "string", "default": "",
                           "writeOnly": True, "description": "Use ${ENV}."},
        "timeout": {"title": "Timeout (s)", "type": "number", "exclusiveMinimum": 0,
                    "maximum": 86400, "default": 120,
                    "description": "For the whole exchange: connecting, redirects and "
                                   "reading the body. msg.requestTimeout (ms) overrides."},
        "follow_redirects": {"title": "Follow redirects", "type": "boolean",
                             "default": True,
                             "description": "msg.followRedirects overrides."},
        "max_redirects": {"title": "Most redirects", "type": "integer", "minimum": 0,
                          "maximum": 100, "default": 21,
                          "description": "More is an error (a redirect loop)."},
        "keep_alive": {"title": "Keep connections alive", "type": "boolean",
                       "default": False,
                       "description": "Reuse connections between requests."},
        "errors_to_catch_only": {
            "title": "Failures only to catch", "type": "boolean", "default": False,
            "description": "A failed request is only an error for catch nodes; "
                           "otherwise the message is sent on too, with the error."},
        "max_response_bytes": {
            "title": "Largest response (bytes)", "type": "integer", "minimum": 0,
            "maximum": 1024 * MIB, "default": 16 * MIB,
            "description": "A bigger body (after decompression) is an error, read no "
                           "further, so one answer cannot exhaust the device's memory."},
    },
}
