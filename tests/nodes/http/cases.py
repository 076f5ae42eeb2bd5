"""Node-RED's 21-httprequest_spec.js, case by case, as rows: a config and a message
for the http-request node, run against tests/http_server.py (whose paths are the spec's
express app's), and what the message sent on must hold. ``{s}`` in a URL is the
server's base (http://localhost:PORT), ``{ip}`` the same server by address.

Rows with ``node_red=True`` also run through Node-RED 4's own node
(test_http_request_node_red.py); the others use bytes, a secret, or something portless
does differently on purpose (the schema's description lists those).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Starts(str):
    """Expect a text starting with this."""


class Absent:
    """Expect the property not to be there."""


ABSENT = Absent()


@dataclass
class Case:
    id: str
    config: dict[str, Any]
    msg: dict[str, Any]
    expect: dict[str, Any]
    """Property path -> value (or Starts(...), ABSENT) on the message sent on."""
    warning: str | None = None
    """Start of a warning the node gives."""
    error: str | None = None
    """Start of the error tied to the message; nothing is sent on then."""
    node_red: bool = True
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    """The cookies the server received, by "host:port/path" ({s} and {ip} filled)."""


TEXT_HTML = Starts("text/html")
JSON_TYPE = Starts("application/json")
PLAIN = Starts("text/plain")

CASES = [
    # --- request -------------------------------------------------------------------------
    Case("plain-text", {"url": "{s}/text"}, {"payload": "foo"},
         {"payload": "hello", "statusCode": 200, "headers.content-length": "5",
          "headers.content-type": TEXT_HTML, "redirectList": []}),
    Case("json", {"url": "{s}/json-valid", "response_as": "json"}, {"payload": "foo"},
         {"payload": {"a": 1}, "statusCode": 200, "headers.content-type": JSON_TYPE}),
    Case("post-object-as-json", {"method": "POST", "url": "{s}/postInspect",
                                 "response_as": "json"}, {"payload": {"foo": "abcde"}},
         {"payload.body": '{"foo":"abcde"}', "payload.headers.content-type": JSON_TYPE,
          "statusCode": 200, "headers.content-type": JSON_TYPE}),
    Case("post-zero-as-text", {"method": "POST", "url": "{s}/postInspect",
                               "response_as": "json"},
         {"payload": 0, "headers": {"content-type": "text/plain"}},
         {"payload.body": "0", "payload.headers.content-length": "1",
          "payload.headers.content-type": PLAIN, "statusCode": 200}),
    Case("post-object-keeps-given-type", {"method": "POST", "url": "{s}/postInspect",
                                          "response_as": "json"},
         {"payload": {"foo": "abcde"}, "headers": {"content-type": "text/plain"}},
         {"payload.body": '{"foo":"abcde"}', "payload.headers.content-type": PLAIN}),
    Case("post-bytes", {"method": "POST", "url": "{s}/postInspect", "response_as": "json"},
         {"payload": b"hello", "headers": {"content-type": "text/plain"}},
         {"payload.body": "hello", "payload.headers.content-type": PLAIN},
         node_red=False),
    Case("post-form", {"method": "POST", "url": "{s}/postInspect", "response_as": "json"},
         {"payload": {"foo": "1 2 3", "bar": ""},
          "headers": {"content-type": "application/x-www-form-urlencoded"}},
         {"payload.body": "foo=1%202%203&bar=",
          "payload.headers.content-type": "application/x-www-form-urlencoded"}),
    Case("put", {"method": "PUT", "url": "{s}/putInspect", "response_as": "json"},
         {"payload": "foo", "headers": {"content-type": "text/plain"}},
         {"payload.body": "foo", "payload.headers.content-type": PLAIN,
          "headers.content-type": JSON_TYPE}),
    Case("delete", {"method": "DELETE", "url": "{s}/deleteInspect", "response_as": "json"},
         {"payload": {"foo": "abcde"}}, {"payload": {}, "statusCode": 204}),
    Case("head-from-message", {"method": "msg.method", "url": "{s}/headInspect"},
         {"payload": "foo", "method": "head"}, {"payload": "", "statusCode": 204}),
    Case("patch", {"method": "PATCH", "url": "{s}/patchInspect", "response_as": "json"},
         {"payload": "foo", "headers": {"content-type": "text/plain"}},
         {"payload.body": "foo", "statusCode": 200}),
    Case("options-from-message", {"method": "msg.method", "url": "{s}/*"},
         {"payload": "foo", "method": "options"}, {"statusCode": 200}),
    Case("bytes-returned", {"url": "{s}/text", "response_as": "bytes"}, {"payload": "foo"},
         {"payload": b"hello", "statusCode": 200, "headers.content-type": TEXT_HTML},
         node_red=False),
    Case("invalid-json-is-text", {"url": "{s}/json-invalid", "response_as": "json"},
         {"payload": "foo"}, {"payload": "{a:1", "statusCode": 200,
                              "headers.content-type": JSON_TYPE},
         warning="JSON parse error"),
    Case("status-204", {"url": "{s}/statusCode204"}, {"payload": "foo"},
         {"payload": "", "statusCode": 204}),
    Case("node-url-wins-over-msg-url", {"url": "{s}/text", "response_as": "json"},
         {"payload": "foo", "url": "/foo"}, {"payload": "hello", "statusCode": 200},
         warning="msg.url is ignored"),
    Case("no-url-is-an-error", {"url": ""}, {"payload": "foo"}, {},
         error="no URL"),
    Case("url-from-message", {}, {"payload": "foo", "url": "{s}/text"},
         {"payload": "hello", "statusCode": 200, "headers.content-length": "5"}),
    Case("url-placeholder", {"url": "{s}/te{{placeholder}}"},
         {"payload": "foo", "placeholder": "xt"}, {"payload": "hello", "statusCode": 200}),
    Case("url-without-scheme", {"url": "{bare}/text"}, {"payload": "foo"},
         {"payload": "hello", "statusCode": 200}),
    Case("other-scheme-in-node", {"url": "ftp://foo"}, {"payload": "foo"}, {},
         error="only http:// and https://"),
    Case("other-scheme-in-message", {}, {"payload": "foo", "url": "ftp://foo"}, {},
         error="only http:// and https://"),
    Case("node-method-wins-over-msg-method", {"url": "{s}/text", "response_as": "json"},
         {"payload": "foo", "method": "POST"}, {"payload": "hello", "statusCode": 200},
         warning="msg.method 'POST' is ignored"),
    Case("method-from-message", {"method": "msg.method", "url": "{s}/text"},
         {"payload": "foo", "method": "get"},
         {"payload": "hello", "statusCode": 200, "headers.content-type": TEXT_HTML}),
    Case("response-url", {"url": "{s}/text"}, {"payload": "foo"},
         {"statusCode": 200, "responseUrl": "{s}/text"}),
    Case("response-url-after-redirect", {"url": "{s}/redirectToText"}, {"payload": "foo"},
         {"payload": "hello", "statusCode": 200, "responseUrl": "{s}/text"}),
    Case("redirect-not-followed", {"url": "{s}/redirectToText"},
         {"payload": "foo", "followRedirects": False},
         {"statusCode": 302, "responseUrl": "{s}/redirectToText"}),
    Case("request-timeout-not-a-number", {"url": "{s}/text", "response_as": "json"},
         {"payload": "foo", "requestTimeout": "foo"}, {"statusCode": 200},
         warning="msg.requestTimeout is not a number"),
    Case("request-timeout-negative", {"url": "{s}/text", "response_as": "json"},
         {"payload": "foo", "requestTimeout": -4}, {"statusCode": 200},
         warning="msg.requestTimeout is below 1 ms"),
    Case("request-timeout-zero", {"url": "{s}/text", "response_as": "json"},
         {"payload": "foo", "requestTimeout": 0}, {"statusCode": 200},
         warning="msg.requestTimeout is below 1 ms"),
    Case("faster-than-request-timeout", {"url": "{s}/text"},
         {"payload": "foo", "requestTimeout": 5000}, {"statusCode": 200}),
    Case("payload-as-query", {"url": "{s}/getQueryParams", "get_payload": "query",
                              "response_as": "json"}, {"payload": {"a": 1, "b": 2, "c": 3}},
         {"payload": {"query": {"a": "1", "b": "2", "c": "3"},
                      "url": "/getQueryParams?a=1&b=2&c=3"}, "statusCode": 200}),
    Case("status-400-is-a-message", {"url": "{s}/returnError/400", "response_as": "json"},
         {}, {"payload": {"gotError": "400"}, "statusCode": 400}),
    Case("status-404-is-a-message", {"url": "{s}/returnError/404", "response_as": "json"},
         {}, {"payload": {"gotError": "404"}, "statusCode": 404}),
    Case("status-500-is-a-message", {"url": "{s}/returnError/500", "response_as": "json"},
         {}, {"payload": {"gotError": "500"}, "statusCode": 500}),
    Case("special-characters-in-url", {"response_as": "json"},
         {"url": "{s}/getQueryParams?a=b&c[0].Text=T24,0°|H80%|W%20S8,3m/s"},
         {"payload.query": {"a": "b", "c[0].Text": "T24,0°|H80%|W S8,3m/s"},
          "payload.url": Starts("/getQueryParams?a=b&c")}),
    # --- HTTP header -----------------------------------------------------------------------
    Case("receive-cookie", {"url": "{s}/setCookie"},
         {"payload": "foo"}, {"responseCookies.data.value": "hello", "statusCode": 200}),
    Case("send-cookie-text", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": "abc"}}, {"payload.data": "abc"}),
    Case("send-cookies-text", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": "abc", "foo": "bar"}},
         {"payload.data": "abc", "payload.foo": "bar"}),
    Case("send-cookie-object", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": {"value": "abc"}}}, {"payload.data": "abc"}),
    Case("send-cookies-object", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": {"value": "abc"}, "foo": {"value": "bar"}}},
         {"payload.data": "abc", "payload.foo": "bar"}),
    Case("cookie-value-encoded", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": ";,/?:@ &=+$#"}},
         {"payload.data": "%3B%2C%2F%3F%3A%40%20%26%3D%2B%24%23"}),
    Case("cookie-object-encoded", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": {"value": ";,/?:@ &=+$#", "encode": True}}},
         {"payload.data": "%3B%2C%2F%3F%3A%40%20%26%3D%2B%24%23"}),
    Case("cookie-not-encoded", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"data": {"value": "!#$%&'()*+-./:<>?@[]^_`{|}~",
                                                 "encode": False}}},
         {"payload.data": "!#$%&'()*+-./:<>?@[]^_`{|}~"}),
    Case("cookie-from-headers", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"boo": "123"}, "headers": {"cookie": "data=abc"}},
         {"payload.data": "abc"}),
    Case("cookies-from-headers", {"url": "{s}/checkCookie", "response_as": "json"},
         {"payload": "foo", "cookies": {"boo": "123"},
          "headers": {"cookie": "data=abc; foo=bar;"}},
         {"payload.data": "abc", "payload.foo": "bar"}),
    Case("headers-any-case", {"method": "POST", "url": "{s}/postInspect",
                              "response_as": "json"},
         {"payload": "foo", "headers": {"Content-Type": "text/plain", "Content-Length": "3",
                                        "If-Modified-Since": "Sun, 01 Jun 2000 00:00:00 GMT"}},
         {"payload.headers.content-type": PLAIN, "payload.headers.content-length": "3",
          "payload.headers.if-modified-since": "Sun, 01 Jun 2000 00:00:00 GMT"}),
    Case("header-case-kept", {"url": "{s}/rawHeaders", "response_as": "json"},
         {"payload": "foo", "headers": {"Content-Type": "text/plain", "X-Test-HEAD": "foo"}},
         {"payload.headers.Content-Type": PLAIN, "payload.headers.X-Test-HEAD": "foo"}),
    Case("receive-header", {"url": "{s}/headersInspect"}, {"payload": "foo"},
         {"statusCode": 200, "headers.x-test-header": "bar"}),
    Case("changed-response-headers-are-sent", {"method": "POST", "url": "{s}/postInspect",
                                               "response_as": "json"},
         {"payload": {"foo": "bar"}, "headers": {"content-type": "text/plain",
                                                 "x-node-red-request-node": "INVALID_SUM"}},
         {"payload.headers.content-type": PLAIN,
          "payload.headers.x-node-red-request-node": ABSENT}),
    Case("node-headers", {"url": "{s}/rawHeaders", "response_as": "json", "headers": [
        {"name": "Accept", "value": "application/json"},
        {"name": "Content-Type", "value": "application/json"},
        {"name": "dynamicHeaderName", "name_from": "msg",
         "value": "dynamicHeaderValue", "value_from": "msg"},
        {"name": "static-header-name", "value": "static-header-value"},
        {"name": "Location", "value": ""}]},
         {"payload": {"foo": "bar"}, "dynamicHeaderName": "dyn-header-name",
          "dynamicHeaderValue": "dyn-header-value",
          "headers": {"content-type": "text/plain", "location": "london"}},
         {"payload.headers.Accept": "application/json",
          "payload.headers.Content-Type": "application/json",
          "payload.headers.dyn-header-name": "dyn-header-value",
          "payload.headers.static-header-name": "static-header-value",
          "payload.headers.location": ABSENT, "payload.headers.Location": ABSENT}),
    # --- authentication (node credentials: portless only, Node-RED keeps them apart) ---
    Case("basic-auth", {"url": "{s}/authenticate", "response_as": "json",
                        "auth_type": "basic", "username": "userfoo",
                        "password": "passwordfoo"}, {"payload": "foo"},
         {"statusCode": 200, "payload.user": "userfoo", "payload.pass": "passwordfoo"},
         node_red=False),
    Case("basic-auth-user-with-at", {"url": "{s}/authenticate", "response_as": "json",
                                     "auth_type": "basic", "username": "foo@example.com",
                                     "password": "passwordfoo"}, {"payload": "foo"},
         {"payload.user": "foo@example.com", "payload.pass": "passwordfoo"},
         node_red=False),
    Case("bearer-auth", {"url": "{s}/authenticate", "response_as": "json",
                         "auth_type": "bearer", "token": "passwordfoo"}, {"payload": "foo"},
         {"statusCode": 200, "payload.token": "passwordfoo"}, node_red=False),
    *[Case(f"digest-{name}", {"url": f"{{s}}/authenticate-digest-{name}",
                              "auth_type": "digest", "username": "xxxuser",
                              "password": "digest-test-password"}, {"payload": "foo"},
           {"statusCode": 201}, node_red=False)
      for name in ("md5", "md5-sess", "md5-qop", "sha-256")],
    # --- file upload -----------------------------------------------------------------------
    Case("file-upload", {"method": "POST", "url": "{s}/file-upload", "response_as": "json",
                         "headers": [{"name": "Content-Type",
                                      "value": "multipart/form-data"}]},
         {"payload": {"file": {"value": b"Hello World", "options": {"filename": "file.txt"}},
                      "other": 123}},
         {"payload.body": {"other": "123"},
          "payload.files": [{"fieldname": "file", "originalname": "file.txt",
                             "buffer": list(b"Hello World")}]}, node_red=False),
    # --- redirect cookies --------------------------------------------------------------------
    Case("redirect-same-host-cookies", {"url": "{s}/redirectToSameDomain"}, {},
         {"redirectList.0.location": "{s}/redirectReturn",
          "redirectList.0.cookies.redirectToSameDomainCookie.Path": "/",
          "redirectList.0.cookies.redirectToSameDomainCookie.value": "same1"},
         cookies={"{host}/redirectToSameDomain": {},
                  "{host}/redirectReturn": {"redirectToSameDomainCookie": "same1"}}),
    Case("redirect-other-host-no-cookies", {"url": "{s}/redirectToDifferentDomain"}, {},
         {"redirectList.0.location": "{ip}/redirectReturn",
          "redirectList.0.cookies.redirectToDifferentDomain.Path": "/",
          "redirectList.0.cookies.redirectToDifferentDomain.value": "different1"},
         cookies={"{host}/redirectToDifferentDomain": {}, "{iphost}/redirectReturn": {}}),
    Case("redirect-same-host-msg-cookies", {"url": "{s}/redirectToSameDomain"},
         {"cookies": {"requestCookie": "request1"}},
         {"redirectList.0.location": "{s}/redirectReturn"},
         cookies={"{host}/redirectToSameDomain": {"requestCookie": "request1"},
                  "{host}/redirectReturn": {"requestCookie": "request1",
                                            "redirectToSameDomainCookie": "same1"}}),
    Case("redirect-other-host-msg-cookies", {"url": "{s}/redirectToDifferentDomain"},
         {"cookies": {"requestCookie": "request1"}},
         {"redirectList.0.location": "{ip}/redirectReturn"},
         cookies={"{host}/redirectToDifferentDomain": {"requestCookie": "request1"},
                  "{iphost}/redirectReturn": {}}),
    Case("redirect-same-host-header-cookies", {"url": "{s}/redirectToSameDomain"},
         {"headers": {"cookie": "requestCookie=request1"}},
         {"redirectList.0.cookies.redirectToSameDomainCookie.value": "same1"},
         cookies={"{host}/redirectToSameDomain": {"requestCookie": "request1"},
                  "{host}/redirectReturn": {"requestCookie": "request1",
                                            "redirectToSameDomainCookie": "same1"}}),
    Case("redirect-other-host-header-cookies", {"url": "{s}/redirectToDifferentDomain"},
         {"headers": {"cookie": "requestCookie=request1"}},
         {"redirectList.0.cookies.redirectToDifferentDomain.value": "different1"},
         cookies={"{host}/redirectToDifferentDomain": {"requestCookie": "request1"},
                  "{iphost}/redirectReturn": {}}),
    Case("redirect-list-of-two", {"url": "{s}/redirectMultipleTimes"},
         {"headers": {"cookie": "requestCookie=request1"}},
         {"redirectList.0.location": "{s}/redirectToDifferentDomain",
          "redirectList.0.cookies.redirectMultipleTimes.Path": "/",
          "redirectList.0.cookies.redirectMultipleTimes.value": "multiple1",
          "redirectList.1.location": "{ip}/redirectReturn",
          "redirectList.1.cookies.redirectToDifferentDomain.value": "different1"}),
]
