"""What the device agent keeps in ``STATE/fleet/``, each file written atomically, so a
device killed at any moment knows at its next start what it ran, what it was deploying
and what to go back to.

- ``known-good.json``: the last bundle that passed its health gate, as the flow files'
  text by name (or, before the first one passed, the files the device ran before it);
- ``staged.json``: the last bundle taken in, as it arrived (signed);
- ``deploying.json``: the bundle whose deploy has begun and not yet passed the gate or
  been rolled back (its version, commit and file hashes); removed last;
- ``running.json``: the version, commit and file hashes that run (absent: none from
  the fleet);
- ``rolled-back.json``: the last bundle rolled back, with why, so that its retained
  copy seen again is not tried again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from portless.runtime.atomic import atomic_delete, atomic_write

KNOWN_GOOD = "known-good.json"
STAGED = "staged.json"
DEPLOYING = "deploying.json"
RUNNING = "running.json"
ROLLED_BACK = "rolled-back.json"


def file_hashes(files: dict[str, str]) -> dict[str, str]:
    """The SHA-256 of each file's UTF-8 text, by name (as a bundle names them)."""
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest()
            for name, text in files.items()}


class FleetState:
    """The records in one directory; each read is of what was last written whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, name: str) -> dict[str, Any] | None:
        """A record, or None when there is none."""
        try:
            record: dict[str, Any] = json.loads((self.directory / name).read_bytes())
        except FileNotFoundError:
            return None
        return record

    def write(self, name: str, record: dict[str, Any] | None) -> None:
        """Replace a record atomically; None removes it."""
        if record is None:
            self.remove(name)
            return
        self.write_bytes(name, json.dumps(record, indent=1).encode())

    def write_bytes(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.directory / name, data)

    def remove(self, name: str) -> None:
        """Delete a record so that a power cut cannot bring it back."""
        with contextlib.suppress(FileNotFoundError):
            atomic_delete(self.directory / name)
