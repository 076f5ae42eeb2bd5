"""A failed request in words and as a code like Node.js's (msg.statusCode on the
message sent on, so a flow can branch on ETIMEDOUT or ECONNREFUSED)."""

from __future__ import annotations

import errno
import ssl

import aiohttp

from portless.nodes.http.http_response import BadHeader, TooLarge
from portless.nodes.http.http_url import UrlError


class TooManyRedirects(Exception):
    """More redirects than the node follows."""


def describe(exc: BaseException, timeout: float) -> tuple[str, str]:
    """(code, sentence) for a request that failed with ``exc``."""
    if isinstance(exc, TimeoutError):
        return "ETIMEDOUT", f"no response within {timeout:g} s"
    if isinstance(exc, TooLarge):
        return "ETOOLARGE", str(exc)
    if isinstance(exc, UrlError):  # where a redirect points
        return "EREDIRECT", str(exc)
    if isinstance(exc, BadHeader):
        return "HPE_INVALID", str(exc)
    if isinstance(exc, TooManyRedirects):
        return "ERR_TOO_MANY_REDIRECTS", str(exc)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        reason = getattr(error, "verify_message", None) or str(error)
        return "ECERT", (f"the server's certificate was refused ({reason}); give the "
                         f"CA that signed it in tls.ca_file")
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return "EPROXY", f"cannot reach the proxy: {_os_reason(exc)}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "ENOTFOUND", f"cannot resolve {exc.host}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        return "ETLS", f"TLS failed: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        code = errno.errorcode.get(exc.os_error.errno or 0, "ECONNECT")
        return code, f"cannot connect to {exc.host}:{exc.port}: {_os_reason(exc)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "ECONNRESET", "the server closed the connection without an answer"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "ECONNRESET", f"the response was cut off: {exc}"
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return "EPROXY", f"the proxy refused the request ({exc.status} {exc.message})"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "HPE_INVALID", f"the answer is not valid HTTP: {exc.message}"
    if isinstance(exc, aiohttp.ClientError) and str(exc).startswith("Digest auth error"):
        return "EAUTH", str(exc).replace("Digest auth error: ", "digest auth: ", 1)
    return "ERROR", f"{type(exc).__name__}: {exc}"


def _os_reason(exc: aiohttp.ClientConnectorError) -> str:
    return exc.os_error.strerror or str(exc.os_error)
