"""What an http-request node does with aiohttp: build each message's request, send it
(following redirects), and put the answer on the message. A module of its own so that
aiohttp (some 20 MB and 0.25 s to import) is loaded only when such a node starts."""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from portless.nodes.http.http_body import NO_BODY, BodyError, request_body, with_query
from portless.nodes.http.http_cookies import CookieRefused, cookie_header, request_jar
from portless.nodes.http.http_errors import TooManyRedirects, describe
from portless.nodes.http.http_headers import HeaderError, request_headers
from portless.nodes.http.http_proxy import proxy_for
from portless.nodes.http.http_response import cookies_of, message_headers, payload_as, read_body
from portless.nodes.http.http_url import UrlError, fill_placeholders, placeholder_problem, target
from portless.nodes.tls import make_ssl_context
from portless.runtime import Message, Node

REDIRECTS = (301, 302, 303, 307, 308)
METHOD = re.compile(r"[A-Za-z]{1,20}")
LONGEST = 86400.0
"""The longest timeout in seconds, msg.requestTimeout's too."""
FROM_MESSAGE = "msg.method"


class RequestRefused(ValueError):
    """The message asks for a request that cannot be made; nothing was sent."""


@dataclass
class Outgoing:
    """One message's request, before it is sent."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    body: Any
    credentials: str | None
    """The Authorization header of basic or bearer auth."""
    jar: aiohttp.CookieJar


class HttpClient:
    """One node's session: its TLS context, auth and proxy settings, and the requests
    its messages ask for; status, warnings and errors go to the node."""

    def __init__(self, node: Node) -> None:
        """Raises ValueError for a url with a bad placeholder or an unusable tls config."""
        self.node = node
        self.config = config = node.config
        problem = placeholder_problem(config["url"])
        if problem:
            raise ValueError(f"url: {problem}")
        self._ssl = make_ssl_context(config["tls"], node)
        self._middlewares: tuple[Any, ...] = ()
        if config["auth_type"] == "digest":
            self._middlewares = (aiohttp.DigestAuthMiddleware(
                config["username"], config["password"], preemptive=False),)
        self._proxy_headers = ({"Proxy-Authorization": basic_auth(
            config["proxy_username"], config["proxy_password"])}
            if config["proxy_username"] else None)
        self._session = aiohttp.ClientSession(  # last: nothing after it can fail
            connector=aiohttp.TCPConnector(force_close=not config["keep_alive"]),
            cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None))

    async def close(self) -> None:
        await self._session.close()

    async def handle(self, msg: Message) -> None:
        """Make ``msg``'s request and send it on with the answer (or the failure)."""
        node = self.node
        try:
            request = self._request(msg)
        except (RequestRefused, UrlError, BodyError, HeaderError, CookieRefused) as exc:
            node.error(str(exc), msg)
            return
        seconds = self._timeout(msg)
        follow = (bool(msg["followRedirects"]) if "followRedirects" in msg
                  else self.config["follow_redirects"])
        node.status("blue", "requesting")
        try:
            async with asyncio.timeout(seconds):
                await self._exchange(msg, request, follow)
        except Exception as exc:  # every failure is said on the message, as in Node-RED
            code, text = describe(exc, seconds)
            where = request.url.with_query(None)  # a key in the query stays out of logs
            node.status("red", code, "ring")
            node.error(f"{text} ({request.method} {where})", msg)
            if not self.config["errors_to_catch_only"]:
                msg["payload"] = f"{text} : {where}"
                msg["statusCode"] = code
                node.send(msg)
            return
        node.status()
        node.send(msg)

    # --- what to send ---------------------------------------------------------------------
    def _request(self, msg: Message) -> Outgoing:
        """The request ``msg`` asks for."""
        config = self.config
        if "rejectUnauthorized" in msg:
            self.node.warn("msg.rejectUnauthorized is ignored: certificates are checked as the "
                      "node's tls config says")
        method = self._method(msg)
        text = self._url_text(msg)
        if method == "GET" and "payload" in msg and config["get_payload"] == "query":
            text = with_query(text, msg["payload"])
        where = target(text, bool(config["tls"]))
        headers, cookie = request_headers(msg, config["headers"])
        jar = request_jar(where.url, msg.get("cookies"), cookie)
        body = None
        if "payload" in msg and (method not in NO_BODY or (
                method == "GET" and config["get_payload"] == "body")):
            body = request_body(msg["payload"], headers)
        return Outgoing(method, where.url, headers, body,
                        self._credentials(where.username, where.password), jar)

    def _method(self, msg: Message) -> str:
        configured = self.config["method"]
        given = msg.get("method")
        if configured != FROM_MESSAGE:
            if isinstance(given, str) and given.upper() != configured:
                self.node.warn(f"msg.method {given!r} is ignored: the node's method is "
                          f"{configured} (choose {FROM_MESSAGE!r} to take it from the "
                          f"message)")
            return str(configured)
        if not isinstance(given, str) or not METHOD.fullmatch(given.strip()):
            raise RequestRefused("msg.method must be an HTTP method such as \"GET\"")
        return given.strip().upper()

    def _url_text(self, msg: Message) -> str:
        configured = self.config["url"]
        given = msg.get("url")
        if configured:
            if isinstance(given, str) and given and given != configured:
                self.node.warn("msg.url is ignored: the node has a URL of its own")
            return fill_placeholders(configured, msg) if "{{" in configured else configured
        if not isinstance(given, str) or not given.strip():
            raise RequestRefused("no URL: set the node's url or msg.url")
        return given

    def _credentials(self, username: str | None, password: str | None) -> str | None:
        """The Authorization header for basic or bearer auth (user:password in the URL
        is basic auth where the node has no credentials, as in Node-RED)."""
        config = self.config
        kind = config["auth_type"]
        if kind == "bearer":
            return f"Bearer {config['token']}"
        if kind == "digest":
            return None
        user, secret = config["username"], config["password"]
        if kind == "none" and not (user or secret):
            user, secret = username or "", password or ""
        if not (user or secret):
            return None
        return basic_auth(user, secret)

    def _timeout(self, msg: Message) -> float:
        """The node's timeout, or msg.requestTimeout (milliseconds) where valid."""
        given = msg.get("requestTimeout")
        if given is None:
            return float(self.config["timeout"])
        if isinstance(given, bool) or not isinstance(given, int | float) or given != given:
            self.node.warn("msg.requestTimeout is not a number; the node's timeout is used")
        elif given < 1:
            self.node.warn("msg.requestTimeout is below 1 ms; the node's timeout is used")
        else:
            return min(float(given) / 1000, LONGEST)
        return float(self.config["timeout"])

    # --- the exchange ---------------------------------------------------------------------
    async def _exchange(self, msg: Message, request: Outgoing, follow: bool) -> None:
        """Send the request (following redirects), read the answer onto ``msg``."""
        config = self.config
        method, url, body, credentials = (request.method, request.url, request.body,
                                          request.credentials)
        origin = url.origin()
        redirects: list[dict[str, Any]] = []
        for hop in range(config["max_redirects"] + 1):
            sent = CIMultiDict(request.headers)
            if credentials and url.origin() == origin:  # never to another host
                sent["Authorization"] = credentials
            cookie = cookie_header(request.jar, url)
            if cookie:
                sent["Cookie"] = cookie
            proxy, proxy_headers = self._proxy(url)
            if proxy_headers and url.scheme == "http":  # no CONNECT: the proxy reads it here
                sent.update(proxy_headers)
            response = await self._session.request(
                method, url, headers=sent, data=body, allow_redirects=False,
                proxy=proxy, proxy_headers=proxy_headers, ssl=self._ssl or True,
                middlewares=self._middlewares if url.origin() == origin else ())
            request.jar.update_cookies(response.cookies, response.url)
            location = response.headers.get("Location")
            if not follow or response.status not in REDIRECTS or location is None:
                break
            response.release()
            if hop == config["max_redirects"]:
                raise TooManyRedirects(f"more than {config['max_redirects']} redirects "
                                       f"(max_redirects)")
            step: dict[str, Any] = {"location": location}
            if "Set-Cookie" in response.headers:
                step["cookies"] = cookies_of(response.headers.getall("Set-Cookie"))
            redirects.append(step)
            url = _next_url(response.url, location)
            if response.status == 303 and method != "HEAD":
                method, body = "GET", None
        try:
            content = b"" if method == "HEAD" else await read_body(
                response, config["max_response_bytes"])
        finally:
            response.release()
        msg["statusCode"] = response.status
        msg["headers"] = message_headers(response.headers)
        msg["responseUrl"] = str(response.url)
        msg["redirectList"] = redirects
        payload, problem = payload_as(content, response.status, config["response_as"])
        if problem:
            self.node.warn(problem)
        msg["payload"] = payload
        if "set-cookie" in msg["headers"]:
            msg["responseCookies"] = cookies_of(msg["headers"]["set-cookie"])


    def _proxy(self, url: URL) -> tuple[URL | None, dict[str, str] | None]:
        """The proxy for ``url`` and the headers for it (credentials in a proxy URL,
        as HTTP_PROXY may have them, become Proxy-Authorization)."""
        proxy = proxy_for(url, self.config["proxy"], self.config["no_proxy"])
        if proxy is None:
            return None, None
        if proxy.user is not None:
            return proxy.with_user(None), {"Proxy-Authorization": basic_auth(
                proxy.user, proxy.password or "")}
        return proxy, self._proxy_headers


def basic_auth(user: str, password: str) -> str:
    """An Authorization (or Proxy-Authorization) header of basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _next_url(current: URL, location: str) -> URL:
    """Where a redirect points, refused unless it is http(s)."""
    try:
        following = current.join(URL(location))
    except ValueError as exc:
        raise UrlError(f"the redirect's Location is not a URL: {exc}") from None
    if following.scheme not in ("http", "https") or not following.host:
        raise UrlError(f"a redirect to {following.scheme or 'no'}:// is not followed")
    return following.with_user(None)
