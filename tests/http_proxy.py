"""A tiny real forward proxy on 127.0.0.1 for the http-request tests: plain requests in
absolute form (``GET http://host/path``) are passed on, CONNECT opens a tunnel (for
https); each request line is recorded, with the Proxy-Authorization it came with, and a
``credentials`` value ("user:password") makes it answer 407 to any other."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Proxy:
    credentials: str | None = None
    seen: list[str] = field(default_factory=list)
    """Request lines, as "METHOD target"."""
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_writer: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, *lines = head.decode("latin-1").split("\r\n")
            method, target, _ = line.split(" ", 2)
            headers = [item for item in lines if item]
            self.seen.append(f"{method} {target}")
            if self.credentials is not None and not self._authorised(headers):
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"proxy\"\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                parts = urlsplit(target)
                up_reader, up_writer = await asyncio.open_connection(
                    parts.hostname, parts.port or 80)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                kept = [item for item in headers if not item.lower().startswith(
                    ("proxy-", "connection:"))]
                up_writer.write(f"{method} {path or '/'} HTTP/1.1\r\n".encode("latin-1")
                                + "".join(f"{item}\r\n" for item in kept).encode("latin-1")
                                + b"Connection: close\r\n\r\n")
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, OSError):
            pass
        finally:
            for each in (up_writer, writer):
                if each is not None:
                    each.close()
                    with contextlib.suppress(OSError):
                        await each.wait_closed()

    def _authorised(self, headers: list[str]) -> bool:
        expected = "Basic " + base64.b64encode((self.credentials or "").encode()).decode()
        return any(item.lower().startswith("proxy-authorization:")
                   and item.split(":", 1)[1].strip() == expected for item in headers)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof()
