"""The editor in headless Chromium: page load, dragging, a one-node deploy, its size.

Each flow is generated (chains io-in -> exception-filter -> output, laid out in rows)
and run as a user runs it, ``python -m portless run FLOW --editor-port PORT``; the token
URL it prints is opened in Debian's Chromium (/usr/bin/chromium, driven by playwright;
never ``playwright install``), each page in a fresh browser context (cold cache). The
figures are Chromium's own:

- load to interactive: from navigation start (the token URL, before its redirect) to
  the first frame after the page's ``portless:ready`` mark (the flow drawn, the handlers
  bound), read from Navigation Timing and User Timing; median of 5 fresh loads;
- drag: main-thread task time (CDP ``Performance.getMetrics`` TaskDuration) around each
  mouse move of a node dragged in an 800-node flow, up to two frames after it; the
  same loop without a move gives the measuring's own share, which is left in;
- deploy: a one-node change made in the node's form and deployed with Ctrl+D: the PUT's
  answer must say that exactly that node was restarted;
- size: the bytes of editor/static's JS and CSS as served (unminified, no build step).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core import ROOT, BenchError, Options, Row

if TYPE_CHECKING:
    from playwright.async_api import Browser, CDPSession, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
STATIC = ROOT / "editor" / "static"
VIEWPORT = {"width": 1400, "height": 850}
LOAD_NODES = 200
DRAG_NODES = 800
DRAG_NODE = "filter-4"
"""An exception-filter near the top left, wired in and out."""
DEPLOY_NODE = "filter-7"
TARGET_LOAD = 1.0
"""Seconds from navigation to interactive with a 200-node flow (issue 4)."""
TARGET_FRAME_MS = 16.0
"""Main-thread time per drag frame, p95, 800 nodes: one 60 Hz frame."""
NODE_RED_FRAME = "Node-RED 4: ~100 ms on 782 nodes"
TARGET_SIZE = 250_000
"""Bytes of JS + CSS, unminified."""
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
WAIT_MS = 15_000
"""Longest wait for anything in the page."""
FLOOR_FRAMES = 20
EDITOR_LINE = re.compile(r"portless editor: (http://127\.0\.0\.1:\d+/\?token=\S+)")

PAINTED = """(() => {
  // The first frame after the page says it is ready: rAF, then a task after its paint.
  const observer = new MutationObserver(() => {
    if (!document.body || document.body.dataset.ready !== 'true') return;
    observer.disconnect();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => performance.mark('bench:painted');
      channel.port2.postMessage(null);
    });
  });
  observer.observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready'] });
})();"""
TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = (name) => performance.getEntriesByName(name)[0].startTime;
  return { ready: mark('portless:ready'), painted: mark('bench:painted'),
           loaded: nav.domContentLoadedEventEnd, redirects: nav.redirectCount,
           nodes: document.querySelectorAll('g[data-node-id]').length,
           wires: document.querySelectorAll('g[data-wire-from]').length };
}"""
NEXT_FRAME = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def flow_document(nodes: int) -> dict[str, Any]:
    """``nodes`` nodes: chains io-in -> exception-filter -> output, four chains a row,
    then single outputs to make up the count. The io-ins read once an hour."""
    chains, extra = divmod(nodes, 3)
    items: list[dict[str, Any]] = []
    for chain in range(chains):
        row, column = divmod(chain, 4)
        x, y = 40 + column * 620, 40 + row * 60
        source, band, sink = f"in-{chain}", f"filter-{chain}", f"out-{chain}"
        items += [
            {"id": source, "type": "io-in", "name": f"Sensor {chain}",
             "config": {"interval": 3600, "signal": "constant"}, "wires": [[band]],
             "x": x, "y": y},
            {"id": band, "type": "exception-filter",
             "config": {"band": 1, "mode": "deadband"}, "wires": [[sink]],
             "x": x + 200, "y": y},
            {"id": sink, "type": "output", "name": f"Valve {chain}",
             "config": {"target": "sim"}, "x": x + 400, "y": y},
        ]
    below = 40 + (chains // 4 + 1) * 60
    items += [{"id": f"spare-{i}", "type": "output", "config": {"target": "sim"},
               "x": 40 + i * 200, "y": below} for i in range(extra)]
    return {"version": 1, "name": f"bench: {nodes} nodes", "nodes": items}


# --- the runtime ------------------------------------------------------------------------
@dataclass(frozen=True)
class Editor:
    url: str
    flow: Path


@asynccontextmanager
async def running(document: dict[str, Any], directory: Path) -> AsyncIterator[Editor]:
    """`portless run` on ``document`` with its editor on a free port; SIGTERM at the end."""
    flow = _write(directory / f"flow-{len(document['nodes'])}.json", document)
    port = _free_port()
    log = directory / f"portless-{port}.log"
    with log.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portless", "run", str(flow), "--editor-port", str(port),
            "--state-dir", str(directory / f"state-{port}"), "--log-level", "warning",
            cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=stderr)
    try:
        if process.stdout is None:  # cannot happen with stdout=PIPE; narrows the type
            raise BenchError("no stdout pipe to the portless process")
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            raise BenchError(f"portless printed no editor address within "
                             f"{START_TIMEOUT:.0f} s: {_last_line(log)}") from None
        match = EDITOR_LINE.search(line.decode("utf-8", "replace"))
        if match is None:
            raise BenchError(f"portless run printed no editor address: {_last_line(log)}")
        await _wait_accepting(port, process)
        yield Editor(match.group(1), flow)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.communicate(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.communicate()


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(no output)"


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _wait_accepting(port: int, process: asyncio.subprocess.Process) -> None:
    """The address is printed just before Hypercorn binds: wait until it accepts."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if process.returncode is not None or time.monotonic() > deadline:
                raise BenchError(f"the editor never listened on port {port}") from None
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return


# --- the measurements -------------------------------------------------------------------
async def open_page(browser: Browser, url: str) -> Page:
    """A fresh context (cold cache, no cookie), signed in through the token URL."""
    context = await browser.new_context(viewport={"width": VIEWPORT["width"],
                                                  "height": VIEWPORT["height"]})
    await context.add_init_script(PAINTED)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    await page.goto(url)
    await page.wait_for_function("() => performance.getEntriesByName('bench:painted').length > 0")
    return page


async def load_times(browser: Browser, url: str, nodes: int, runs: int) -> list[dict[str, Any]]:
    """Navigation to interactive, ``runs`` fresh loads."""
    results = []
    for _ in range(runs):
        page = await open_page(browser, url)
        try:
            timings: dict[str, Any] = await page.evaluate(TIMINGS)
        finally:
            await page.context.close()
        if timings["nodes"] != nodes:
            raise BenchError(f"the page drew {timings['nodes']} of {nodes} nodes")
        results.append(timings)
    return results


async def _task_ms(cdp: CDPSession) -> float:
    answer = await cdp.send("Performance.getMetrics")
    for metric in answer["metrics"]:
        if metric["name"] == "TaskDuration":
            return float(metric["value"]) * 1000
    raise BenchError("Chromium reported no TaskDuration metric")


async def _frame_ms(page: Page, cdp: CDPSession, point: tuple[float, float] | None) -> float:
    """Main-thread time of one mouse move (or none) and the two frames after it."""
    before = await _task_ms(cdp)
    if point is not None:
        await page.mouse.move(*point)
    await page.evaluate(NEXT_FRAME)
    return await _task_ms(cdp) - before


async def drag_costs(browser: Browser, url: str, moves: int) -> dict[str, Any]:
    """Press on a node, move it ``moves`` times a few pixels, one frame each."""
    page = await open_page(browser, url)
    try:
        body = page.locator(f'g[data-node-id="{DRAG_NODE}"] .body')
        box = await body.bounding_box()
        if box is None:
            raise BenchError(f"node {DRAG_NODE} is not visible")
        x, y = box["x"] + 30, box["y"] + box["height"] / 2
        where = "id => { const n = portless.model.get(id); return [n.x, n.y]; }"
        start = await page.evaluate(where, DRAG_NODE)
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        await page.mouse.move(x, y)
        await page.mouse.down()
        await page.mouse.move(x + 6, y + 6)  # past the 4 px threshold: the drag has begun
        await page.evaluate(NEXT_FRAME)
        floor = [await _frame_ms(page, cdp, None) for _ in range(FLOOR_FRAMES)]
        await page.evaluate("() => { const c = portless.canvas; if (c.perf) c.perf.length = 0; }")
        frames = []
        dx = dy = 0
        for step in range(1, moves + 1):
            dx, dy = 6 + 3 * step, 6 + 2 * (step % 40)
            frames.append(await _frame_ms(page, cdp, (x + dx, y + dy)))
        handler: list[float] = await page.evaluate("() => window.portless.canvas.perf || []")
        await page.mouse.up()
        end = await page.evaluate(where, DRAG_NODE)
        if end[0] - start[0] != dx or end[1] - start[1] != dy:
            raise BenchError(f"the drag moved {DRAG_NODE} by {end[0] - start[0]}, "
                             f"{end[1] - start[1]}, not {dx}, {dy}")
    finally:
        await page.context.close()
    return {"frames": frames, "floor": floor, "handler": handler}


def _is_put_flow(response: Response) -> bool:
    return response.request.method == "PUT" and response.url.endswith("/api/flow")


async def one_node_deploy(browser: Browser, url: str) -> dict[str, Any]:
    """Change the band of one filter in its form, Done, Ctrl+D; the PUT's answer."""
    page = await open_page(browser, url)
    try:
        await page.locator(f'g[data-node-id="{DEPLOY_NODE}"] .body').dblclick()
        tray = page.locator(f'aside[data-testid="tray"][data-node="{DEPLOY_NODE}"]')
        await tray.locator('[data-field="/config/band"]').fill("2")
        await tray.get_by_test_id("form-done").click()
        await tray.wait_for(state="detached")
        started = time.perf_counter()
        async with page.expect_response(_is_put_flow) as answer:
            await page.keyboard.press("Control+d")
        response = await answer.value
        result: dict[str, Any] = await response.json()
        result["seconds"] = time.perf_counter() - started
        result["status"] = response.status
    finally:
        await page.context.close()
    return result


def front_end_size() -> dict[str, int]:
    """Bytes of every JS and CSS file the editor serves, and gzipped."""
    files = sorted(p for p in STATIC.rglob("*") if p.suffix in (".js", ".css") and p.is_file())
    data = [p.read_bytes() for p in files]
    return {"bytes": sum(map(len, data)),
            "gzip": sum(len(gzip.compress(d, 9)) for d in data),
            "js": sum(1 for p in files if p.suffix == ".js"),
            "css": sum(1 for p in files if p.suffix == ".css")}


# --- rows ---------------------------------------------------------------------------------
def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _seconds(values: list[float]) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.3f} s"
    return f"{median:.3f} s (median of {len(values)}; {min(values):.3f}-{max(values):.3f})"


def load_rows(timings: list[dict[str, Any]], nodes: int, target: bool) -> list[Row]:
    painted = [t["painted"] / 1000 for t in timings]
    measurement = f"editor: page load to interactive, {nodes}-node flow"
    if not target:
        return [Row(measurement, _seconds(painted))]
    wires = timings[0]["wires"]
    return [
        Row(measurement, _seconds(painted), f"<= {TARGET_LOAD:g} s",
            statistics.median(painted) <= TARGET_LOAD),
        Row("  of which: token redirect, HTML, CSS, modules (DOMContentLoaded)",
            f"{statistics.median(t['loaded'] for t in timings) / 1000:.3f} s"),
        Row(f"  of which: flow drawn ({nodes} nodes, {wires} wires; 'portless:ready')",
            f"{statistics.median(t['ready'] for t in timings) / 1000:.3f} s"),
    ]


def drag_rows(result: dict[str, Any]) -> list[Row]:
    frames, floor = result["frames"], result["floor"]
    p95 = _percentile(frames, 0.95)
    rows = [
        Row(f"editor: drag a node, {DRAG_NODES}-node flow: main-thread time a frame",
            f"{statistics.median(frames):.2f} ms median, {p95:.2f} ms p95, "
            f"{max(frames):.2f} ms max ({len(frames)} moves)",
            f"<= {TARGET_FRAME_MS:g} ms p95 ({NODE_RED_FRAME})", p95 <= TARGET_FRAME_MS),
        Row("  of which: measuring (same loop, no move; left in above)",
            f"{statistics.median(floor):.2f} ms median"),
    ]
    if result["handler"]:
        handler = result["handler"]
        rows.append(Row("  of which: the page's pointermove handler",
                        f"{statistics.median(handler):.3f} ms median, "
                        f"{_percentile(handler, 0.95):.3f} ms p95"))
    return rows


def deploy_rows(result: dict[str, Any], nodes: int) -> list[Row]:
    started = result.get("started", [])
    ok = result["status"] == 200 and started == [DEPLOY_NODE]
    detail = (f"{len(started)} restarted ({', '.join(started) or 'none'}), "
              f"{len(result.get('unchanged', []))} unchanged; "
              f"{result['seconds'] * 1000:.0f} ms to the answer"
              if result["status"] == 200 else f"HTTP {result['status']}: {result}")
    return [Row(f"editor: deploy a one-node change, {nodes}-node flow", detail,
                f"restarts only {DEPLOY_NODE}", ok)]


def size_rows(size: dict[str, int]) -> list[Row]:
    return [Row("editor: front end, JS + CSS as served (unminified)",
                f"{size['bytes'] / 1000:.1f} KB ({size['js']} JS, {size['css']} CSS; "
                f"{size['gzip'] / 1000:.1f} KB gzipped)",
                f"< {TARGET_SIZE // 1000} KB", size["bytes"] < TARGET_SIZE)]


async def in_chromium(options: Options, rows: list[Row]) -> None:
    """The browser measurements; their rows go to ``rows`` as they come."""
    from playwright.async_api import Error, async_playwright

    runs = 2 if options.quick else 5
    moves = 40 if options.quick else 120
    with tempfile.TemporaryDirectory(prefix="portless-bench-editor-") as directory:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                       args=["--no-sandbox"])
            try:
                async with running(flow_document(LOAD_NODES), Path(directory)) as editor:
                    rows += load_rows(await load_times(browser, editor.url, LOAD_NODES, runs),
                                      LOAD_NODES, target=True)
                    rows += deploy_rows(await one_node_deploy(browser, editor.url),
                                        LOAD_NODES)
                async with running(flow_document(DRAG_NODES), Path(directory)) as editor:
                    rows += load_rows(await load_times(browser, editor.url, DRAG_NODES, runs),
                                      DRAG_NODES, target=False)
                    rows += drag_rows(await drag_costs(browser, editor.url, moves))
            except Error as exc:
                raise BenchError(f"in the browser: {str(exc).splitlines()[0]}") from None
            finally:
                await browser.close()


def _check_browser() -> None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        raise BenchError("playwright is not installed (pip install -e '.[test]')") from None
    if not CHROMIUM.exists():
        raise BenchError(f"no Chromium at {CHROMIUM} (sudo apt install chromium)")


def benchmark(options: Options) -> list[Row]:
    rows: list[Row] = []
    try:
        _check_browser()
        asyncio.run(in_chromium(options, rows))
    except BenchError as exc:  # the size needs no browser: it is still reported
        rows.append(Row("editor: in Chromium", f"error: {exc}", passed=False))
    return rows + size_rows(front_end_size())
