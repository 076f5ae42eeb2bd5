"""Serve the editor with Hypercorn inside the runtime's own event loop, on loopback only."""

from __future__ import annotations

import asyncio

# werkzeug encodes the Host with the idna codec, which Python imports from disk on first
# use: were that first request to come while a flood of connections holds every file
# descriptor, that import would fail (EMFILE) with a traceback. So it is imported now.
import encodings.idna  # noqa: F401
import logging
import secrets
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypercorn.asyncio import serve

from portless.editor.app import create_app
from portless.editor.connections import BoundedConfig, ConnectionBound
from portless.editor.flows import FlowService
from portless.editor.paths import AllowedPaths
from portless.editor.stream import Hub
from portless.editor.tabs import EditorTabs
from portless.editor.watch import watch_tabs
from portless.runtime import DeployService

log = logging.getLogger("portless.editor")
BIND_ADDRESSES = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}


class EditorAddressError(ValueError):
    """--editor-host names something other than a loopback address, or its port is taken."""


def bind_address(host: str, port: int) -> str:
    """The address to bind for a loopback host; anything else is refused."""
    if host not in BIND_ADDRESSES:
        raise EditorAddressError(
            f"--editor-host {host}: the editor listens on loopback only (127.0.0.1, ::1 "
            f"or localhost). To reach it from elsewhere, tunnel: "
            f"ssh -L {port}:127.0.0.1:{port} DEVICE")
    if not 0 < port < 65536:
        raise EditorAddressError(f"--editor-port {port}: not a TCP port")
    return BIND_ADDRESSES[host]


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen on the editor's loopback address now, before the flow connects
    anywhere, so a port that is taken stops the start instead of a half-started run."""
    address = bind_address(host, port)
    listener = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((address, port))
        listener.listen(100)
    except OSError as exc:
        listener.close()
        raise EditorAddressError(
            f"the editor cannot listen on {host} port {port}: {exc.strerror or exc} "
            f"(another portless, or another program, has it); choose another port with "
            f"--editor-port PORT") from None
    return listener


async def run_editor(deploys: DeployService, *, listener: socket.socket, host: str,
                     stop: asyncio.Event, allow_paths: Sequence[Path] = ()) -> None:
    """Serve the editor on ``listener`` (from ``listen``) until ``stop`` is set. Prints
    the sign-in address once. A deploy may name files in the state directory, in
    ``allow_paths`` and those the running flow names now (editor/paths.py)."""
    port = listener.getsockname()[1]
    engine, registry = deploys.engine, deploys.registry
    token = secrets.token_urlsafe(24)
    allowed = AllowedPaths.at_start(
        [engine.state_dir, *engine.tab_state_dirs.values(), *allow_paths], engine.flow,
        registry)
    service = FlowService(deploys.tabs[0], engine, registry, allowed, deploys)
    hub = Hub(engine.events)
    hub.last_status.update(engine.statuses())  # what nodes showed before the editor began
    connections = ConnectionBound()
    tabs = EditorTabs(deploys, allowed, service)
    app = create_app(service, hub, port=port, token=token, connections=connections,
                     tabs=tabs)
    watcher = asyncio.get_running_loop().create_task(
        watch_tabs(tabs, hub), name="editor: flow file watcher")
    try:
        await serve_guarded(app, listener=listener, host=host, token=token,
                            connections=connections, stop=stop)
    finally:
        watcher.cancel()
        hub.shutdown()


async def serve_guarded(app: Any, *, listener: socket.socket, host: str, token: str,
                        connections: ConnectionBound, stop: asyncio.Event) -> None:
    """Serve an editor app (its Guard made with ``token`` and ``connections``) on
    ``listener`` until ``stop``; prints the sign-in address once. The local and the
    remote editor (fleet/remote_editor.py) are served alike."""
    port = listener.getsockname()[1]
    config = BoundedConfig(connections)
    config.bind = [f"fd://{listener.detach()}"]  # Hypercorn owns (and closes) it now
    config.accesslog = None
    config.errorlog = logging.getLogger("portless.editor.http")  # one log, one format
    config.graceful_timeout = 1.0
    shown = "[::1]" if host == "::1" else host
    print(f"portless editor: http://{shown}:{port}/?token={token}", flush=True)
    await serve(app, config, shutdown_trigger=stop.wait)
