"""Helpers for the editor's browser tests: `portless run` as a subprocess with its editor
on a free loopback port, the page's console, and mouse gestures on the canvas.

Everything waits on a condition with a deadline (a line printed, a port accepting, an
element attached), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Error, Locator, Page

from tests.mosquitto import free_port

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium; never `playwright install`, which downloads (and fails here)."""
ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 10_000
"""Default wait of every playwright action and expectation."""
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
EDITOR_LINE = re.compile(r"portless editor: (http://127\.0\.0\.1:(\d+)/\?token=(\S+))")
PROVOKED = re.compile(r"Failed to load resource: the server responded with a status of "
                      r"(?P<status>\d+)")
"""Chromium's own console line for an HTTP error answer (a 412 a test provokes, say)."""


def launch_options() -> dict[str, Any]:
    """Debian's Chromium, else whichever `chromium` is on PATH; no sandbox (root, CI)."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium") or CHROMIUM
    return {"executable_path": path, "args": ["--no-sandbox"]}


@dataclass
class Server:
    """One `portless run FLOW --editor-port PORT --state-dir DIR` process."""

    flow: Path
    port: int
    url: str
    token: str
    log: Path
    process: asyncio.subprocess.Process

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def start_server(directory: Path, document: dict[str, Any],
                       name: str = "flow.json", text: str | None = None,
                       args: Iterable[str] = (), more: Iterable[Path] = ()) -> Server:
    """Write ``document`` (indented, not canonical, as a person might; or exactly
    ``text``) and run it, with more ``args`` for `portless run` (``--nodes-dir``) and
    ``more`` flow files after it (the other tabs)."""
    flow = write_document(directory / name, document, text)
    return await start_editor(
        ["run", str(flow), *map(str, more), "--state-dir", str(directory / "state"), *args],
        flow, directory / f"{flow.stem}.log")


async def start_editor(args: list[str], flow: Path, log: Path) -> Server:
    """Run `portless ARGS --editor-port PORT` (a free port), its stderr into ``log``,
    until it prints its editor address and accepts on it (`portless run`, or the
    remote editor, `portless edit`)."""
    port = free_port()
    with log.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portless", *args, "--editor-port", str(port), cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=stderr)
    server = Server(flow, port, "", "", log, process)
    try:
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"portless printed no editor address within "
                                 f"{START_TIMEOUT:.0f} s:\n{server.log_tail()}") from None
        match = EDITOR_LINE.search(line.decode())
        assert match, f"not the editor address: {line!r}\n{server.log_tail()}"
        assert int(match.group(2)) == port
        server.url, server.token = match.group(1), match.group(3)
        # The address is printed just before Hypercorn binds: wait until it accepts.
        await _wait_accepting(server)
    except BaseException:
        await stop_server(server)
        raise
    return server


def write_document(path: Path, document: dict[str, Any], text: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n" if text is None else text,
                    encoding="utf-8")
    return path


async def _wait_accepting(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        except OSError:
            if server.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"the editor never listened on port {server.port}:\n"
                                     f"{server.log_tail()}") from None
            await asyncio.sleep(0.02)  # polling a port coming up, bounded by the deadline
            continue
        writer.close()
        await writer.wait_closed()
        return


async def stop_server(server: Server) -> int:
    """SIGTERM by PID, SIGKILL if it has not exited in time; returns the exit status."""
    process = server.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.communicate(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.communicate()
    assert process.returncode is not None
    return process.returncode


@dataclass
class Console:
    """The page's console errors and warnings, and its uncaught exceptions."""

    lines: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.lines.append(f"console {message.type}: {message.text}")

    def _on_error(self, error: Error) -> None:
        self.lines.append(f"page error: {error}")

    def unexpected(self, provoked: Iterable[int] = ()) -> list[str]:
        """Every line but Chromium's own "Failed to load resource" for the HTTP
        statuses a test provoked on purpose."""
        allowed = set(provoked)
        return [line for line in self.lines
                if not ((match := PROVOKED.search(line))
                        and int(match.group("status")) in allowed)]


# --- gestures ---------------------------------------------------------------------------
async def center(locator: Locator) -> tuple[float, float]:
    await locator.scroll_into_view_if_needed()
    box = await locator.bounding_box()
    assert box is not None, f"{locator} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def drag(page: Page, start: tuple[float, float], end: tuple[float, float],
               steps: int = 10) -> None:
    """Press at ``start``, move in steps (the pointermove handlers see each), release."""
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(*end, steps=steps)
    await page.mouse.up()


def node(page: Page, node_id: str) -> Locator:
    return page.locator(f'g[data-node-id="{node_id}"]')


def wire(page: Page, source: str, target: str, port: int = 0) -> Locator:
    return page.locator(f'g[data-wire-from="{source}"][data-wire-port="{port}"]'
                        f'[data-wire-to="{target}"]')


async def node_ids(page: Page) -> list[str]:
    ids: list[str] = await page.evaluate("[...portless.model.nodes.keys()]")
    return ids


async def drop_from_palette(page: Page, node_type: str, x: float, y: float) -> str:
    """Drag a palette entry to the client point (x, y); return the new node's id."""
    before = set(await node_ids(page))
    await drag(page, await center(page.get_by_test_id(f"palette-{node_type}")), (x, y))
    await page.wait_for_function("n => portless.model.nodes.size > n", arg=len(before))
    new = [node_id for node_id in await node_ids(page) if node_id not in before]
    assert len(new) == 1, new
    await node(page, new[0]).wait_for()
    return new[0]


async def connect(page: Page, source: str, target: str, port: int = 0) -> None:
    """Wire an output port to an input port with the mouse."""
    start = await center(node(page, source).locator(f'[data-port="out-{port}"]'))
    end = await center(node(page, target).locator('[data-port="in"]'))
    await drag(page, start, end)
    await wire(page, source, target, port).wait_for(state="attached")


async def open_form(page: Page, node_id: str) -> Locator:
    """Double-click a node; return its edit tray."""
    await node(page, node_id).locator(".body").dblclick()
    tray = tray_of(page, node_id)
    await tray.wait_for()
    return tray


def tray_of(page: Page, node_id: str) -> Locator:
    return page.locator(f'aside[data-testid="tray"][data-node="{node_id}"]')


async def document(page: Page) -> dict[str, Any]:
    """The flow as the page holds it."""
    doc: dict[str, Any] = await page.evaluate("portless.model.toDocument()")
    return doc


def shape(doc: dict[str, Any]) -> dict[str, tuple[str, list[list[str]]]]:
    """Node id -> (type, wires): what a reload must keep."""
    return {n["id"]: (n["type"], n.get("wires", [])) for n in doc["nodes"]}


async def open_page(browser: Browser, url: str) -> tuple[BrowserContext, Page, Console]:
    """A new browser context on the editor at ``url`` (its token in it), the console
    watched, once the page has drawn the flow; the caller closes the context."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        console = Console()
        console.watch(page)
        await page.goto(url)
        await page.locator('body[data-ready="true"]').wait_for(state="attached")
    except BaseException:
        await context.close()
        raise
    return context, page, console
