"""A real HTTP server on 127.0.0.1 for the http-request tests, answering as the
express app of Node-RED's 21-httprequest_spec.js does (same paths), plus hostile
answers (a huge body, an endless stream, a redirect loop, a server that never answers)
and, on a raw socket, answers that are not valid HTTP.

``start_server(tls=...)`` serves the app (over TLS with a trustme CA where given);
``start_raw(answer)`` writes fixed bytes to every connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DIGEST_PASSWORD = "digest-test-password"
REALM, NONCE = "node-red", "123456"
ENDLESS_CAP = 256 * 1024 * 1024
"""The endless stream stops by itself after this many bytes (a bounded test)."""


@dataclass
class Server:
    runner: web.AppRunner
    port: int
    scheme: str
    never: asyncio.Event
    """Set at teardown: what /timeout waits on."""
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    """Cookies each redirect path received, by "host:port/path"."""
    waiting: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once /timeout holds a request."""

    def url(self, path: str, host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    async def stop(self) -> None:
        self.never.set()
        await self.runner.cleanup()


def _cookies(request: web.Request) -> dict[str, str]:
    """The Cookie header's pairs, undecoded (cookie-parser with decode: String)."""
    found: dict[str, str] = {}
    for pair in request.headers.get("Cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name:
            found[name] = value
    return found


async def _inspect(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"body": body.decode(),
                              "headers": {k.lower(): v for k, v in request.headers.items()}})


def _digest(algorithm: str, text: str) -> str:
    if algorithm == "SHA-512-256":  # as Node-RED computes it: SHA-512, cut to 256 bits
        return hashlib.sha512(text.encode()).hexdigest()[:64]
    name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm]
    return hashlib.new(name, text.encode()).hexdigest()


def _digest_route(algorithm: str, sess: bool, qop: str | None) -> Any:
    value = f"{algorithm}-sess" if sess else algorithm

    async def handle(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        if not header:
            qop_field = f'qop="{qop}", ' if qop else ""
            return web.Response(status=401, headers={"WWW-Authenticate": (
                f'Digest {qop_field}realm="{REALM}", nonce="{NONCE}", '
                f'algorithm="{value}"')})
        fields = {m[0]: m[1] or m[2] for m in re.findall(
            r'([a-z0-9_-]+)=(?:"([^"]+)"|([a-z0-9_-]+))', header, re.I)}
        if (qop and fields.get("qop") != qop) or fields.get("realm") != REALM \
                or fields.get("nonce") != NONCE or fields.get("algorithm") != value:
            return web.Response(status=401)
        ha1 = _digest(algorithm, f"{fields['username']}:{REALM}:{DIGEST_PASSWORD}")
        cnonce = fields.get("cnonce", "")
        if sess:
            ha1 = _digest(algorithm, f"{ha1}:{NONCE}:{cnonce}")
        ha2 = _digest(algorithm, f"{request.method}:{request.path}")
        expected = _digest(algorithm, f"{ha1}:{NONCE}:{fields.get('nc')}:{cnonce}:{qop}:{ha2}"
                           if qop else f"{ha1}:{NONCE}:{ha2}")
        return web.Response(status=201 if fields.get("response") == expected else 401)
    return handle


def _app(server_ref: list[Server]) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    routes = web.RouteTableDef()

    def me() -> Server:
        return server_ref[0]

    @routes.get("/text")
    async def text(request: web.Request) -> web.Response:
        return web.Response(text="hello", content_type="text/html")

    @routes.get("/statusCode204")
    async def no_content(request: web.Request) -> web.Response:
        return web.Response(status=204)

    @routes.get("/redirectToText")
    async def redirect_to_text(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": me().url("/text")})

    @routes.get("/json-valid")
    async def json_valid(request: web.Request) -> web.Response:
        return web.json_response({"a": 1})

    @routes.get("/json-invalid")
    async def json_invalid(request: web.Request) -> web.Response:
        return web.Response(text="{a:1", content_type="application/json")

    @routes.get("/headersInspect")
    async def headers_inspect(request: web.Request) -> web.Response:
        return web.Response(text="a", headers={"x-test-header": "bar"})

    @routes.get("/timeout")
    async def timeout(request: web.Request) -> web.Response:
        me().waiting.set()
        await me().never.wait()
        return web.Response(text="hello")

    @routes.get("/checkCookie")
    async def check_cookie(request: web.Request) -> web.Response:
        return web.json_response(_cookies(request))

    @routes.get("/setCookie")
    async def set_cookie(request: web.Request) -> web.Response:
        return web.Response(text="", headers={"Set-Cookie": "data=hello; Path=/"})

    @routes.get("/authenticate")
    async def authenticate(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return web.json_response({"user": user, "pass": password})
        if header.startswith("Bearer "):
            return web.json_response({"token": header[7:]})
        return web.json_response(None)

    for path, algorithm, sess, qop in [
            ("md5", "MD5", False, None), ("md5-sess", "MD5", True, "auth"),
            ("md5-qop", "MD5", False, "auth"), ("sha-256", "SHA-256", False, "auth")]:
        routes.get(f"/authenticate-digest-{path}")(_digest_route(algorithm, sess, qop))

    for method, path in [("POST", "/postInspect"), ("PUT", "/putInspect"),
                         ("PATCH", "/patchInspect"), ("GET", "/proxyAuthenticate")]:
        routes.route(method, path)(_inspect)

    @routes.delete("/deleteInspect")
    async def delete_inspect(request: web.Request) -> web.Response:
        return web.Response(status=204)

    @routes.route("HEAD", "/headInspect")
    async def head_inspect(request: web.Request) -> web.Response:
        return web.Response(status=204)

    @routes.route("OPTIONS", "/{tail:.*}")
    async def options(request: web.Request) -> web.Response:
        return web.Response(status=200)

    def redirecting(name: str, value: str, to: str, host: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            me().cookies[f"{request.host}{request.path}"] = _cookies(request)
            return web.Response(status=302, headers={
                "Location": me().url(to, host), "Set-Cookie": f"{name}={value}; Path=/"})
        return handle

    routes.get("/redirectToSameDomain")(redirecting(
        "redirectToSameDomainCookie", "same1", "/redirectReturn", "localhost"))
    routes.get("/redirectToDifferentDomain")(redirecting(
        "redirectToDifferentDomain", "different1", "/redirectReturn", "127.0.0.1"))
    routes.get("/redirectMultipleTimes")(redirecting(
        "redirectMultipleTimes", "multiple1", "/redirectToDifferentDomain", "localhost"))

    @routes.get("/redirectReturn")
    async def redirect_return(request: web.Request) -> web.Response:
        me().cookies[f"{request.host}{request.path}"] = _cookies(request)
        return web.Response(status=200, headers={"Set-Cookie": "redirectReturn=return1"})

    @routes.get("/getQueryParams")
    async def query_params(request: web.Request) -> web.Response:
        query: dict[str, Any] = {}
        for key, value in request.query.items():
            query[key] = [*query[key], value] if key in query and isinstance(
                query[key], list) else ([query[key], value] if key in query else value)
        return web.json_response({"query": query, "url": request.raw_path})

    @routes.get("/returnError/{code}")
    async def return_error(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        return web.json_response({"gotError": code}, status=int(code))

    @routes.get("/rawHeaders")
    async def raw_headers(request: web.Request) -> web.Response:
        return web.json_response({"headers": {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in request.raw_headers}})

    @routes.get("/getClientCert")
    async def client_cert(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        return web.Response(text="hello", content_type="text/html") if peer else \
            web.Response(status=401)

    @routes.post("/file-upload")
    async def file_upload(request: web.Request) -> web.Response:
        body: dict[str, str] = {}
        files = []
        async for part in await request.multipart():
            data = await part.read()  # type: ignore[union-attr]
            if part.filename:  # type: ignore[union-attr]
                files.append({"fieldname": part.name, "originalname": part.filename,
                              "buffer": list(data)})
            else:
                body[part.name or ""] = data.decode()
        return web.json_response({"body": body, "files": files})

    # --- hostile answers -------------------------------------------------------------
    @routes.get("/huge")
    async def huge(request: web.Request) -> web.StreamResponse:
        """Says 64 MiB up front, sends a little, then waits."""
        response = web.StreamResponse()
        response.content_length = 64 * 1024 * 1024
        await response.prepare(request)
        await response.write(b"x" * 65536)
        await me().never.wait()
        return response

    @routes.get("/endless")
    async def endless(request: web.Request) -> web.StreamResponse:
        """Chunked, no length, no end (until the client goes or ENDLESS_CAP)."""
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"y" * 65536
        try:
            for _ in range(ENDLESS_CAP // len(chunk)):
                await response.write(chunk)
        except ConnectionError:
            pass  # the client gave up, as it should
        return response

    @routes.get("/loop")
    async def loop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/loop"})

    @routes.get("/deep-json")
    async def deep_json(request: web.Request) -> web.Response:
        return web.Response(text="[" * 100_000 + "]" * 100_000,
                            content_type="application/json")

    @routes.get("/to-file")
    async def to_file(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "file:///etc/passwd"})

    @routes.get("/echo-auth")
    async def echo_auth(request: web.Request) -> web.Response:
        return web.json_response({"authorization": request.headers.get("Authorization")})

    @routes.get("/redirect-elsewhere")
    async def redirect_elsewhere(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={
            "Location": me().url("/echo-auth", "127.0.0.1")})

    @routes.get("/redirect-here")
    async def redirect_here(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/echo-auth"})

    @routes.post("/temporary")
    async def temporary(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": "/postInspect"})

    @routes.get("/connection")
    async def connection(request: web.Request) -> web.Response:
        return web.Response(text=str(id(request.transport)))

    routes.get("/authenticate-digest-sha-512-256")(_digest_route("SHA-512-256", False, "auth"))

    @routes.get("/gzip")
    async def gzipped(request: web.Request) -> web.Response:
        response = web.Response(text="hello " * 1000)
        response.enable_compression()
        return response

    @routes.post("/see-other")
    async def see_other(request: web.Request) -> web.Response:
        return web.Response(status=303, headers={"Location": "/text"})

    app.add_routes(routes)
    app.router.add_route("TRACE", "/traceInspect", _inspect)
    return app


async def start_server(tls: ssl.SSLContext | None = None) -> Server:
    """The app on a free 127.0.0.1 port (HTTPS with ``tls``)."""
    ref: list[Server] = []
    runner = web.AppRunner(_app(ref), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    server = Server(runner, port, "https" if tls else "http", asyncio.Event())
    ref.append(server)
    return server


@dataclass
class RawServer:
    server: asyncio.Server
    port: int

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def start_raw(answer: bytes) -> RawServer:
    """A server on a free 127.0.0.1 port that reads the request head, writes
    ``answer`` and closes."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return RawServer(server, server.sockets[0].getsockname()[1])


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shown(msg: dict[str, Any]) -> str:
    """A message as one line, for assertion messages."""
    return json.dumps(msg, default=repr)[:500]
