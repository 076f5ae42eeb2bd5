"""Which proxy a request goes through: the node's own (with its no-proxy list), else
HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment, asked per URL (a redirect may
change the answer)."""

from __future__ import annotations

import urllib.request
from collections.abc import Sequence

from yarl import URL


def proxy_for(url: URL, configured: str, no_proxy: Sequence[str]) -> URL | None:
    """The proxy for ``url``, or None to connect directly."""
    host = url.host or ""
    if configured:
        if _bypassed(host, url.port, ",".join(no_proxy)):
            return None
        return URL(configured if "://" in configured else f"http://{configured}")
    proxies = urllib.request.getproxies_environment()
    chosen = proxies.get(url.scheme)
    if not chosen or _bypassed(host, url.port, proxies.get("no", "")):
        return None
    return URL(chosen if "://" in chosen else f"http://{chosen}")


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """True if ``host`` matches the comma-separated NO_PROXY list (``*`` for all; a
    name matches itself and its subdomains; ``.example.com`` the same; host:port)."""
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.partition(":") if entry.count(":") == 1 else (
            entry, "", "")
        if entry_port and str(port) != entry_port:
            continue
        name = name.lstrip(".")
        if host.lower() == name or host.lower().endswith("." + name):
            return True
    return False
