"""``portless fleet keys|revoke --device DEVICE.json``: the keys a device trusts, and
taking one away, on the device itself (no broker, no private key: only public lines).

Exit 0 on success, 1 when a revoke is refused (no such key, or the last one), 2 for
unusable configuration or key files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portless.runtime.atomic import atomic_write

from .broker_config import ConfigError
from .device_config import trusted_key_files
from .keys import KeyFileError, KeyLine, trusted_lines


class RevokeRefused(ValueError):
    """A revoke that would do nothing, or leave the device trusting no key."""


def run(args: argparse.Namespace) -> int:
    try:
        files = list(trusted_key_files(args.device))
        if args.fleet_command == "keys":
            for line in trusted_lines(files):
                print(f"{line.key.key_id}  {line.key.comment or '-'}  "
                      f"{line.file}:{line.number}")
            return 0
        for line in revoke(files, args.key_id, args.force):
            print(f"{line.file}:{line.number}: removed {line.key.key_id}"
                  f"{' (' + line.key.comment + ')' if line.key.comment else ''}")
        return 0
    except RevokeRefused as exc:
        print(f"portless fleet revoke: {exc}", file=sys.stderr)
        return 1
    except (ConfigError, KeyFileError, OSError) as exc:
        where = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) \
            and exc.filename else str(exc)
        print(f"portless fleet {args.fleet_command}: {where}", file=sys.stderr)
        return 2


def revoke(files: list[Path], key_id: str, force: bool = False) -> list[KeyLine]:
    """Remove every line of ``key_id`` from the trusted-keys files, each file rewritten
    atomically (its other lines and comments kept); returns the lines removed."""
    lines = trusted_lines(files)
    found = [line for line in lines if line.key.key_id == key_id]
    if not found:
        raise RevokeRefused(f"no trusted key {key_id} in {', '.join(map(str, files))} "
                            f"(portless fleet keys lists them)")
    if not force and not {line.key.key_id for line in lines} - {key_id}:
        raise RevokeRefused(f"{key_id} is the last key this device trusts: without it the "
                            f"device refuses every bundle and only someone at the device "
                            f"can give it a key again; add the new key first, or use "
                            f"--force")
    for file in dict.fromkeys(line.file for line in found):
        gone = {line.number for line in found if line.file == file}
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise KeyFileError(f"{file}: not UTF-8 text; not rewritten") from None
        kept = [line for number, line in enumerate(text.splitlines(keepends=True), 1)
                if number not in gone]
        atomic_write(file, "".join(kept).encode("utf-8"))
    return found
