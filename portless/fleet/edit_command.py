"""``portless edit --remote DEVICE --config FLEET.json --key KEYFILE``: the remote editor.

Exit 0 after SIGINT/SIGTERM, 1 when the editor's port is taken or the broker cannot be
reached, 2 for unusable arguments, configuration or key files."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys

from portless.editor.server import EditorAddressError, listen

from . import keys
from .broker_config import DEVICE_ID, ConfigError
from .engineer_config import load_engineer_config
from .remote_editor import run_remote_editor
from .remote_link import RemoteLink


def run(args: argparse.Namespace) -> int:
    try:
        if not DEVICE_ID.fullmatch(args.remote):
            raise ConfigError(f"--remote {args.remote!r}: a device id is 1 to 64 letters, "
                              f"digits, '_' or '-'")
        config = load_engineer_config(args.config)
        key = keys.load_private(args.key)
    except (ConfigError, keys.KeyFileError) as exc:
        print(f"portless edit: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"portless edit: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        listener = listen(args.editor_host, args.editor_port)
    except EditorAddressError as exc:
        print(f"portless edit: {exc}", file=sys.stderr)
        return 1 if "cannot listen" in str(exc) else 2
    link = RemoteLink(config, args.remote, key)
    try:
        asyncio.run(_serve(link, listener, args.editor_host))
    except OSError as exc:  # the broker cannot be reached
        print(f"portless edit: the management broker {config.host} port {config.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(link: RemoteLink, listener: socket.socket, host: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_remote_editor(link, listener=listener, host=host, stop=stop)
