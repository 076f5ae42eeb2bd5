"""Regenerate docs/editor.png from the demo, as the README's first command runs it.

    python docs/screenshot.py        # from the dev venv (it needs playwright, the test extra)

So that the picture and the demo agree, it makes a fresh virtualenv with only the demo
extra (the README's first command: the palette then shows the built-in node types, not
a plugin of the dev venv), runs ``portless run flows/demo.json --dev-broker`` from it,
opens the editor in headless Chromium (Debian's /usr/bin/chromium, never
``playwright install``), sends the valve one command so the debug sidebar shows it,
waits until the filter's status says how many readings it passed, and saves the page.

The flow is the shipped file with one change: its broker on a free loopback port, so
the picture neither depends on nor disturbs a broker already on 1883. The run has its
own state directory; everything it starts is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "flows" / "demo.json"
PICTURE = ROOT / "docs" / "editor.png"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1360, "height": 760}
EDITOR_LINE = re.compile(r"portless editor: (http://127\.0\.0\.1:\d+/\?token=\S+)")
COMMAND = ("device/valve-1/cmd/position", "42")
"""The README's example command, so the debug sidebar and the valve's status show it."""
TIMEOUT = 60.0
ENOUGH_READINGS = re.compile(r"passed \d+ of ([2-9]\d|\d{3,})$")
"""The filter's status once it has seen 20 readings or more (10 s of the demo)."""


def demo_venv(directory: Path) -> Path:
    """A virtualenv with portless and only its demo extra; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    python = directory / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[demo]"],
                   check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def demo_on_free_port(directory: Path) -> tuple[Path, int]:
    document = json.loads(DEMO.read_text(encoding="utf-8"))
    port = free_port()
    for node in document["nodes"]:
        if node["type"] == "mqtt-broker":
            node["config"]["port"] = port
    flow = directory / "demo.json"
    flow.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return flow, port


async def take(page: Page, url: str, broker_port: int) -> None:
    expect.set_options(timeout=TIMEOUT * 1000)
    await page.goto(url)
    await page.locator('body[data-ready="true"]').wait_for(state="attached")
    await expect(page.get_by_test_id("ws-state")).to_have_attribute("data-state", "open")
    await expect(page.get_by_test_id("status-publish-flow")).to_have_text("connected")
    # Report by exception, visibly: the filter has seen a score of readings.
    await expect(page.get_by_test_id("status-report-by-exception")).to_have_text(ENOUGH_READINGS)
    if shutil.which("mosquitto_pub"):
        publish = await asyncio.create_subprocess_exec(
            "mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker_port), "-V", "mqttv311",
            "-q", "1", "-t", COMMAND[0], "-m", COMMAND[1])
        if await asyncio.wait_for(publish.wait(), TIMEOUT) != 0:
            raise SystemExit("screenshot: mosquitto_pub could not send the command")
        await expect(page.get_by_test_id("status-valve-position")).to_contain_text(COMMAND[1])
        await page.locator('[data-testid="debug-item"]').first.wait_for()
    else:
        print("screenshot: mosquitto_pub not found; no command is shown", file=sys.stderr)
    await page.mouse.move(0, VIEWPORT["height"] - 1)  # no hover highlight in the picture
    await page.screenshot(path=str(PICTURE))


async def main(venv: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="portless-screenshot-") as scratch:
        directory = Path(scratch)
        python = (venv / "bin" / "python") if venv else demo_venv(directory / "venv")
        flow, broker_port = demo_on_free_port(directory)
        process = await asyncio.create_subprocess_exec(
            str(python), "-m", "portless", "run", str(flow), "--dev-broker",
            "--editor-port", str(free_port()), "--state-dir", str(directory / "state"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL)
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
            match = EDITOR_LINE.search(line.decode())
            if match is None:
                raise SystemExit(f"screenshot: portless printed no editor address: {line!r}")
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                           args=["--no-sandbox"])
                try:
                    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    page = await context.new_page()
                    page.set_default_timeout(TIMEOUT * 1000)
                    await take(page, match.group(1), broker_port)
                finally:
                    await browser.close()
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)  # as Ctrl-C: the dev broker stops too
            await asyncio.wait_for(process.wait(), TIMEOUT)
    print(f"screenshot: wrote {PICTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="an existing venv with only portless[demo] "
                                                  "(skips making one, about a minute)")
    asyncio.run(main(parser.parse_args().venv))
