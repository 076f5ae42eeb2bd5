"""The ``portless`` command: run, validate, fmt, nodes, docs, import-node-red, fleet, sparkplug.

This is the one place that joins the engine and the editor; the editor (Quart,
Hypercorn) is imported only when asked for, so a headless start loads no web stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portless import __version__
from portless.dev_plc import DevPlcError, dev_plcs
from portless.devbroker import DevBrokerError, dev_brokers
from portless.logs import add_log_arguments, configure_logging
from portless.runtime import (
    DeployService,
    Engine,
    EventBus,
    FlowError,
    FlowInvalid,
    Registry,
    RegistryError,
    SubflowLibrary,
    canonical_text,
    load_flow,
    read_flow,
    subflow_dirs,
)
from portless.runtime.context_sqlite import FLUSH_INTERVAL
from portless.runtime.events import LogSubscriber
from portless.runtime.flow import check_shape
from portless.runtime.reference import NO_LISTENERS, node_reference
from portless.runtime.state import StateDirs, StateLocked
from portless.runtime.tabs import flow_files, load_tabs

if TYPE_CHECKING:  # imported only with --fleet, so a plain start loads no cryptography
    from portless.fleet.device import DeviceAgent

log = logging.getLogger("portless")
EditorStart = tuple[str, socket.socket, list[Path]]
"""--editor-host, the socket bound to --editor-port, the --allow-path directories."""


def default_state_dir() -> Path:
    """The base of every flow's state unless --state-dir says otherwise (XDG state home);
    each flow file has its own directory below it."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "portless"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portless",
        description="A dataflow runtime for edge devices that opens no ports.")
    parser.add_argument("--version", action="version", version=f"portless {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    nodes_dir = argparse.ArgumentParser(add_help=False)
    nodes_dir.add_argument("--nodes-dir", action="append", default=[], metavar="DIR",
                           help="also load node types from the *.py files in DIR "
                                "(may be given more than once)")
    nodes_dir.add_argument("--subflows", action="append", default=[], metavar="DIR",
                           help="also load subflows (node types written as flow files) "
                                "from the *.json files in DIR, besides the 'subflows' "
                                "directory next to each flow file (may be given more "
                                "than once)")

    locked = argparse.ArgumentParser(add_help=False)
    locked.add_argument("--no-function-nodes", action="store_true",
                        help="refuse flows with function nodes (or any node type that "
                             "runs code from the flow file), for locked-down devices")

    editor_address = argparse.ArgumentParser(add_help=False)
    editor_address.add_argument("--editor-host", default="127.0.0.1", metavar="HOST",
                                help="loopback address for the editor: 127.0.0.1 "
                                     "(default), ::1 or localhost; anything else is refused")
    editor_address.add_argument("--editor-port", type=int, default=1880, metavar="PORT",
                                help="editor port (default 1880)")

    run = commands.add_parser(
        "run", parents=[nodes_dir, locked, editor_address],
        help="run a flow until SIGINT/SIGTERM",
        description="Run a flow until SIGINT or SIGTERM, then stop every node and exit 0.")
    run.add_argument("flow", metavar="FLOW", nargs="+",
                     help="the flow file to run; several files, or a directory (every "
                          "*.json in it), run together, each a tab")
    run.add_argument("--no-editor", action="store_true",
                     help="headless: open no socket at all")
    run.add_argument("--dev-broker", action="store_true",
                     help="for the demo and development: use or start an MQTT broker on "
                          "the loopback port the flow's mqtt-broker names (mosquitto from "
                          "PATH, else the embedded amqtt of the 'demo' extra)")
    run.add_argument("--dev-plc", action="store_true",
                     help="for the demo and development: serve a simulated Modbus TCP PLC "
                          "(a slowly moving valve in holding registers 0-2) on the "
                          "loopback port each modbus-connection names")
    run.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                     help=f"base directory of durable state such as outboxes; each flow file has "
                          f"its own directory in it, locked while it runs (default "
                          f"{default_state_dir()})")
    run.add_argument("--allow-path", type=Path, action="append", default=[], metavar="DIR",
                     help="a directory whose files a deploy from the editor may name as an "
                          "io-in source or output target (may be given more than once); "
                          "always allowed: the state directory and the files the flow "
                          "names at start")
    run.add_argument("--reload", action="store_true",
                     help="watch the flow file and deploy each valid change made on disk "
                          "(a git pull); an invalid one is logged and changes nothing")
    run.add_argument("--no-rollback", action="store_true",
                     help="when a deploy's nodes fail to start, keep the new flow with "
                          "those nodes failed (as Node-RED does) instead of putting back "
                          "the flow that ran before")
    run.add_argument("--context-store", choices=["memory", "persistent"], default="memory",
                     help="where global context is kept: memory (default; lost at a stop) "
                          "or persistent (context.sqlite in the state directory); each "
                          "flow file chooses for its own context with \"context\": "
                          "{\"store\": ...}")
    run.add_argument("--context-flush", type=_flush_seconds, default=FLUSH_INTERVAL,
                     metavar="SECONDS",
                     help=f"persistent context is committed at most SECONDS after a change "
                          f"(0.01 to 3600; default {FLUSH_INTERVAL:g}): the most a crash or "
                          f"power cut loses; longer writes the disk less often")
    run.add_argument("--fleet", type=Path, default=None, metavar="DEVICE.json",
                     help="manage this device's flows from a fleet: follow signed bundles "
                          "on the management broker the device configuration names "
                          "(docs/fleet.md)")
    add_log_arguments(run)

    validate = commands.add_parser(
        "validate", parents=[nodes_dir, locked], help="check flow files",
        description="Check flow files; print every error as FILE: node ID: /field: "
                    "sentence and exit 1 if there is any.")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--skip-env", action="store_true",
                          help="do not require the ${ENV} variables a flow uses to be set "
                               "(for CI and pre-commit, away from the device)")
    validate.add_argument("--tabs", action="store_true",
                          help="check the files (or every *.json of a directory) as the "
                               "tabs of one process: ids unique across them, connections "
                               "used from another file")

    fmt = commands.add_parser(
        "fmt", help="rewrite flow files in canonical form",
        description="Rewrite flow files in canonical form (2-space indent, fixed key "
                    "order, integer positions, final newline), atomically.")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if a file is not canonical")

    nodes = commands.add_parser(
        "nodes", parents=[nodes_dir], help="list the node types found",
        description="List node types: built-ins, installed plugins, --nodes-dir files.")
    nodes.add_argument("--json", action="store_true",
                       help="print every type with its full config schema as JSON")

    docs = commands.add_parser(
        "docs", parents=[nodes_dir], help="write the node reference (docs/nodes.md)",
        description="Generate the Markdown node reference from the node schemas.")
    docs.add_argument("--output", "-o", type=Path, default=None, metavar="FILE",
                      help="write to FILE instead of standard output")
    docs.add_argument("--check", action="store_true",
                      help="with --output: change nothing; exit 1 if FILE is stale")
    docs.add_argument("--all", action="store_true",
                      help="include plugins and --nodes-dir types, not only built-ins")
    from portless import sparkplug_watch
    from portless.node_red_import import command as import_node_red

    edit = commands.add_parser(
        "edit", parents=[editor_address], help="edit a far device's flows through the broker",
        description="Serve the editor on this machine's loopback for a device run with "
                    "--fleet: its API and live status travel through the management "
                    "broker (MQTT 5 request/response), a Deploy is a bundle signed here, "
                    "and the device opens no port (docs/fleet.md).")
    edit.add_argument("--remote", required=True, metavar="DEVICE", help="the device id")
    edit.add_argument("--config", type=Path, required=True, metavar="FLEET.json",
                      help="the engineer configuration: topic prefix and management broker")
    edit.add_argument("--key", type=Path, required=True, metavar="KEYFILE",
                      help="the signing key (one the device trusts): signs every request "
                           "and each deploy's bundle; it never leaves this machine")
    add_log_arguments(edit)
    import_node_red.add_parser(commands)
    from portless.fleet import arguments as fleet

    fleet.add_parser(commands)
    sparkplug_watch.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        configure_logging(args)
    except OSError as exc:  # --log-file in a missing or read-only directory
        print(f"portless: cannot write the log file {exc.filename}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    handler = {"run": cmd_run, "validate": cmd_validate, "fmt": cmd_fmt,
               "nodes": cmd_nodes, "docs": cmd_docs,
               "import-node-red": cmd_import_node_red, "fleet": cmd_fleet, "edit": cmd_edit,
               "sparkplug": cmd_sparkplug}[args.command]
    try:
        return handler(args)
    except RegistryError as exc:
        print(f"portless: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _print_errors(errors: Sequence[FlowError]) -> None:
    for error in errors:
        print(error, file=sys.stderr)


def _registry(args: argparse.Namespace, flow_files: Sequence[str | Path] = ()) -> Registry:
    """Node types (built-ins, plugins, --nodes-dir), then the subflows: --subflows
    directories and the 'subflows' directory beside each flow file."""
    return _subflows(args, flow_files).registry


def _subflows(args: argparse.Namespace, flow_files: Sequence[str | Path]) -> SubflowLibrary:
    registry = Registry.discover(args.nodes_dir)
    registry.allow_code = not getattr(args, "no_function_nodes", False)  # run, validate
    return SubflowLibrary(registry, subflow_dirs(flow_files, args.subflows))


def cmd_validate(args: argparse.Namespace) -> int:
    if args.tabs:
        try:
            files = flow_files(args.files)
            load_tabs(files, _registry(args, files), resolve_env=not args.skip_env)
        except FlowInvalid as exc:
            _print_errors(exc.errors)
            return 1
        print(f"{', '.join(map(str, files))}: valid together")
        return 0
    registry = _registry(args, args.files)
    failed = False
    for file in args.files:
        try:
            load_flow(file, registry, resolve_env=not args.skip_env)
        except FlowInvalid as exc:
            _print_errors(exc.errors)
            failed = True
        else:
            print(f"{file}: valid")
    return 1 if failed else 0


def cmd_fmt(args: argparse.Namespace) -> int:
    from portless.runtime.atomic import atomic_write

    status = 0
    for file in args.files:
        try:
            document = read_flow(file)
            check_shape(document, file)
        except FlowInvalid as exc:
            _print_errors(exc.errors)
            status = 1
            continue
        text = canonical_text(document)
        if Path(file).read_text(encoding="utf-8") == text:
            continue
        if args.check:
            print(f"{file}: not in canonical form (run: portless fmt {file})", file=sys.stderr)
            status = 1
        else:
            atomic_write(file, text.encode("utf-8"))
            print(f"{file}: reformatted")
    return status


def cmd_nodes(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if args.json:
        print(json.dumps([registry.describe(cls) for cls in registry], indent=2))
    else:
        rows = [("TYPE", "CATEGORY", "IN", "OUT", "SOURCE")] + [
            (cls.type, cls.category, str(cls.inputs), _outputs_cell(registry.describe(cls)),
             registry.source(cls.type)) for cls in registry]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
                  + "  " + row[4])
        print(f"\n{NO_LISTENERS}")
    for line in registry.load_errors:
        print(f"portless: {line}", file=sys.stderr)
    return 1 if registry.load_errors else 0


def _outputs_cell(described: dict[str, Any]) -> str:
    """The OUT column: a count, or "config (2)" when the count follows the config
    (2 with the defaults)."""
    count = described["outputs"]
    return f"config ({count})" if described["outputs_from_config"] else str(count)


def cmd_docs(args: argparse.Namespace) -> int:
    registry = _registry(args)
    classes = [cls for cls in registry if args.all or registry.source(cls.type) == "built-in"]
    text = node_reference(classes)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if current == text:
        return 0
    if args.check:
        print(f"{args.output} is stale; run: portless docs -o {args.output}", file=sys.stderr)
        return 1
    from portless.runtime.atomic import atomic_write

    atomic_write(args.output, text.encode("utf-8"))
    print(f"{args.output}: written")
    return 0


def cmd_import_node_red(args: argparse.Namespace) -> int:
    from portless.node_red_import.command import run

    return run(args)


def cmd_fleet(args: argparse.Namespace) -> int:
    from portless.fleet.command import run

    return run(args)


def cmd_edit(args: argparse.Namespace) -> int:
    from portless.fleet.edit_command import run

    return run(args)


def cmd_sparkplug(args: argparse.Namespace) -> int:
    from portless.sparkplug_watch import run

    return run(args)


def _flush_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0.01 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0.01 "
                                         f"to 3600")
    return seconds


def cmd_run(args: argparse.Namespace) -> int:
    try:
        files = flow_files(args.flow)
    except FlowInvalid as exc:
        _print_errors(exc.errors)
        return 2
    subflows = _subflows(args, files)  # read again when a file changes
    registry = subflows.registry
    engine = Engine(registry, events=EventBus(), global_context_store=args.context_store,
                    context_flush=args.context_flush)
    states = StateDirs(args.state_dir or default_state_dir(), args.flow[0])
    deploys = DeployService(engine, registry, files, rollback=not args.no_rollback,
                            subflows=subflows, states=states)
    agent: DeviceAgent | None = None
    if args.fleet is not None:
        from portless.fleet.device import device_agent

        try:
            agent = device_agent(args.fleet, deploys)
        except (ValueError, OSError) as exc:  # a bad device configuration or key file
            print(f"portless: --fleet: {exc}", file=sys.stderr)
            return 2
        try:  # before the files are read: a deploy cut short goes back to known-good
            agent.recover(states.acquire())
        except (StateLocked, OSError) as exc:
            print(f"portless: --fleet: {exc}", file=sys.stderr)
            return 1
    try:
        deploys.load()
    except FlowInvalid as exc:
        _print_errors(exc.errors)
        states.release_all()  # held when --fleet recovered
        return 1
    # Everything that can refuse the start is settled before any broker is reached or a
    # token is printed: the flows' state (one process per flow), then the editor's port.
    for directory in args.allow_path:
        if not directory.is_dir():  # a typo would otherwise allow nothing, in silence
            print(f"portless: --allow-path {directory}: not a directory", file=sys.stderr)
            return 2
    try:
        return _run_claimed(args, deploys, agent)
    finally:
        states.release_all()


def _run_claimed(args: argparse.Namespace, deploys: DeployService,
                 agent: DeviceAgent | None) -> int:
    """Lock the state directories, bind the editor's port, run."""
    try:
        deploys.claim_state()
    except StateLocked as exc:
        print(f"portless: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"portless: cannot use {exc.filename or args.state_dir} as a state "
              f"directory: {exc.strerror or exc}; choose another base with --state-dir DIR",
              file=sys.stderr)
        return 1
    listener = None
    if not args.no_editor:
        from portless.editor.server import EditorAddressError, listen

        try:
            listener = listen(args.editor_host, args.editor_port)
        except EditorAddressError as exc:
            print(f"portless: {exc}", file=sys.stderr)
            return 1 if "cannot listen" in str(exc) else 2
    editor = None if listener is None else (args.editor_host, listener, args.allow_path)
    try:
        return asyncio.run(_run(deploys, args.dev_broker, args.dev_plc, editor, args.reload,
                                agent))
    except (DevBrokerError, DevPlcError, OSError) as exc:
        print(f"portless: {exc}", file=sys.stderr)
        return 1


async def _run(deploys: DeployService, dev_broker: bool, dev_plc: bool,
               editor: EditorStart | None, reload: bool, agent: DeviceAgent | None) -> int:
    flow = deploys.running()
    async with (dev_brokers(flow) if dev_broker else contextlib.nullcontext(),
                dev_plcs(flow) if dev_plc else contextlib.nullcontext()):
        return await _run_flow(deploys, editor, reload, agent, dev_broker or dev_plc)


async def _run_flow(deploys: DeployService, editor: EditorStart | None, reload: bool,
                    agent: DeviceAgent | None, dev: bool) -> int:
    engine, flow = deploys.engine, deploys.running()
    log_events = LogSubscriber()
    engine.events.subscribe(log_events)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    for tab in deploys.tabs:
        log.info("state of %s in %s", tab, engine.tab_state_dirs.get(str(tab), engine.state_dir))
    await deploys.start()
    watcher = loop.create_task(deploys.watch(), name="--reload: flow file watch") \
        if reload else None
    managed = loop.create_task(agent.run(stop), name="--fleet: management link") \
        if agent is not None else None
    try:
        if editor is None:
            log.info("running %s: %d nodes, headless (%s)", flow.file, len(flow.nodes),
                     "no listening sockets but the --dev ones on 127.0.0.1" if dev
                     else "no listening sockets")
            await stop.wait()
        else:
            from portless.editor.server import run_editor

            host, listener, allow_paths = editor
            log.info("running %s: %d nodes, editor on %s port %d (loopback only)",
                     flow.file, len(flow.nodes), host, listener.getsockname()[1])
            await run_editor(deploys, listener=listener, host=host, stop=stop,
                             allow_paths=allow_paths)
    finally:
        async with deploys.lock:  # a deploy under way finishes first, never cut in half
            if watcher is not None:
                watcher.cancel()
            if managed is not None:
                managed.cancel()
            log.info("stopping")
            await engine.stop()
        log_events.flush()  # what the rate limit held back, so the log ends on the truth
        log.info("stopped")
    return 0
