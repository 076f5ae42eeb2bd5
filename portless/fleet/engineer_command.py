"""``portless fleet publish|status|watch|rollback``: the engineer's side of a rollout,
through the management broker named by an engineer configuration file.

Exit 0 on success; 1 when a device refused, failed or rolled back (or a publish was
refused by the broker); 2 for unusable arguments, configuration or key files, or a
broker that cannot be reached; 3 when ``watch`` ran out of time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from . import rollout
from .broker_config import DEVICE_ID, ConfigError
from .bundle import BundleRefused, inspect
from .engineer import BrokerError, Engineer
from .engineer_config import EngineerConfig, load_engineer_config
from .git import DirtyFiles, NotInHistory
from .keys import KeyFileError
from .limits import MAX_BUNDLE_BYTES
from .reports import SUCCESS, Report, table
from .signing import sign_files, sign_rollback

TIMED_OUT = 3


def run(args: argparse.Namespace) -> int:
    """Run one of this module's actions; the exit status."""
    name = f"portless fleet {args.fleet_command}"
    try:
        config = load_engineer_config(args.config)
        devices = _devices(args)
        action = {"publish": _publish, "status": _status, "watch": _watch,
                  "rollback": _rollback}[args.fleet_command]
        return action(args, config, devices)
    except (ConfigError, KeyFileError, BrokerError, OSError) as exc:
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        print(f"{name}: {where}{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    except (DirtyFiles, NotInHistory, BundleRefused) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1


def _devices(args: argparse.Namespace) -> list[str]:
    names = list(args.device)
    if args.devices is not None:
        lines = args.devices.read_text(encoding="utf-8").splitlines()
        names += [line.strip() for line in lines
                  if line.strip() and not line.lstrip().startswith("#")]
    for name in names:
        if not DEVICE_ID.fullmatch(name):
            raise ConfigError(f"device id {name!r}: 1 to 64 letters, digits, '_' or '-'")
    if args.devices_required and not names:
        raise ConfigError("name the devices: --device ID (again for more) or --devices "
                          "FILE")
    return list(dict.fromkeys(names))


def say(line: str) -> None:
    print(line, flush=True)


def _publish(args: argparse.Namespace, config: EngineerConfig, devices: list[str]) -> int:
    if (args.bundle is None) == (not args.files):
        raise ConfigError("give either --bundle BUNDLE.json or flow files to sign")
    if args.bundle is not None:
        with open(args.bundle, "rb") as handle:
            data = handle.read(MAX_BUNDLE_BYTES + 1)
        bundle, _ = inspect(data)
    else:
        if args.key is None or args.version is None:
            raise ConfigError("signing flow files needs --key KEYFILE and --version N")
        bundle, data = sign_files(args.files, args.key, args.version)
    return asyncio.run(_send(args, config, devices, data, bundle.version))


def _rollback(args: argparse.Namespace, config: EngineerConfig, devices: list[str]) -> int:
    if args.key is None:
        raise ConfigError("a rollback is signed: give --key KEYFILE")
    version = args.version
    if version is None:
        reports = asyncio.run(_reports(config, devices))
        version = 1 + max([0, *(v for r in reports for v in (r.version, r.running)
                                if v is not None)])
    bundle, data = sign_rollback(args.files, args.key, version, args.commit)
    say(f"rollback bundle: version {bundle.version}, commit {bundle.commit}")
    return asyncio.run(_send(args, config, devices, data, bundle.version))


async def _reports(config: EngineerConfig, devices: list[str] | None) -> list[Report]:
    async with Engineer(config) as engineer:
        return await rollout.reports(engineer, devices)


async def _send(args: argparse.Namespace, config: EngineerConfig, devices: list[str],
                data: bytes, version: int) -> int:
    refused: list[str] = []
    async with Engineer(config) as engineer:
        async def send() -> None:
            refused.extend(await rollout.publish(engineer, devices, data, version, say,
                                                 args.chunk_size))
        if args.watch:  # following from before the publish: no report falls between
            progress = await rollout.watch(engineer, devices, version,
                                           SUCCESS[args.until], args.timeout, say, send)
        else:
            await send()
    if refused:
        say(f"{len(refused)} of {len(devices)} device(s) not published: "
            f"{', '.join(refused)}")
        return 1
    if args.watch:
        return _outcome(progress, devices, args.timeout)
    say(f"version {version} published to {len(devices)} device(s); follow it with: "
        f"portless fleet watch --version {version} ...")
    return 0


def _status(args: argparse.Namespace, config: EngineerConfig, devices: list[str]) -> int:
    reports = asyncio.run(_reports(config, devices or None))
    if not reports:
        say(f"no device has reported under {config.topic_prefix}")
        return 0
    say(table(reports))
    bad = [report.device for report in reports if report.bad]
    if bad:
        say(f"{len(bad)} of {len(reports)} device(s) failed, rolled back or never "
            f"reported: {', '.join(bad)}")
        return 1
    return 0


def _watch(args: argparse.Namespace, config: EngineerConfig, devices: list[str]) -> int:
    progress = asyncio.run(_follow(config, devices, args.version, SUCCESS[args.until],
                                   args.timeout))
    return _outcome(progress, devices, args.timeout)


def _outcome(progress: rollout.Watch, devices: list[str], timeout: float) -> int:
    """Say how a rollout ended; its exit status."""
    ended = {d: r for d, r in progress.latest.items() if progress.ended(r)}
    bad = sorted(d for d, r in ended.items() if r.bad)
    waiting = sorted(set(devices) - set(ended))
    good = len(ended) - len(bad)
    summary: dict[str, Any] = {"ended well": good, "failed or rolled back": len(bad),
                               "not done": len(waiting)}
    say(", ".join(f"{count} {what}" for what, count in summary.items()))
    if bad:
        say(f"failed or rolled back: {', '.join(bad)}")
    if waiting:
        say(f"not done after {timeout:g} s: {', '.join(waiting)}")
    return 1 if bad else TIMED_OUT if waiting else 0


async def _follow(config: EngineerConfig, devices: list[str], version: int,
                  success: frozenset[str], timeout: float) -> rollout.Watch:
    async with Engineer(config) as engineer:
        return await rollout.watch(engineer, devices, version, success, timeout, say)
