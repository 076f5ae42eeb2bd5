"""A device's reported state as the engineer reads it: parsed as hostile (any client
the ACL lets publish there could have written it), then shown as one table row.

The states a device reports (docs/fleet.md): ``received``, ``verified``, ``deployed``,
``healthy``, ``failed``, ``rolled back``. A job ends in ``healthy`` (or ``deployed``
for a device without a health gate), ``failed`` or ``rolled back``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from portless.runtime import safe_json

SUCCESS = {"healthy": frozenset({"healthy"}), "deployed": frozenset({"deployed", "healthy"})}
"""``watch --until``: the states that end a device's job well."""

MAX_REPORT_BYTES = 64 * 1024
BAD_STATES = frozenset({"failed", "rolled back"})
"""States after which a device does not run the bundle it was sent."""
_PRINTABLE_LIMIT = 500


@dataclass(frozen=True)
class Report:
    device: str
    state: str
    """The state of the device's last job, or ``no report`` / ``unreadable``."""
    version: int | None = None
    """The version the job is about."""
    running: int | None = None
    """The version the device runs."""
    commit: str | None = None
    reason: str = ""
    at: float | None = None

    @property
    def bad(self) -> bool:
        return self.state in BAD_STATES or self.state in ("no report", "unreadable")


def parse_report(device: str, payload: bytes | None) -> Report:
    """The report a device published (None: it never did); never raises."""
    if payload is None:
        return Report(device, "no report")
    try:
        if len(payload) > MAX_REPORT_BYTES:
            raise ValueError(f"{len(payload)} bytes")
        document = safe_json.loads(payload.decode("utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("state"), str):
            raise ValueError("not an object with a state")
    except (ValueError, UnicodeDecodeError, safe_json.JsonProblems) as exc:
        return Report(device, "unreadable", reason=_clean(str(exc)))
    running = document.get("running")
    running = running if isinstance(running, dict) else {}
    return Report(device, _clean(document["state"]), version=_whole(document.get("version")),
                  running=_whole(running.get("version")),
                  commit=_clean(running["commit"]) if isinstance(running.get("commit"), str)
                  else None,
                  reason=_clean(document.get("reason") or ""),
                  at=document["at"] if type(document.get("at")) in (int, float) else None)


def table(reports: list[Report], now: float | None = None) -> str:
    """The status table: one row a device, in the order given."""
    now = time.time() if now is None else now
    rows = [("DEVICE", "VERSION", "COMMIT", "STATE", "LAST SEEN", "REASON")]
    for report in reports:
        state = report.state
        if report.version is not None and report.version != report.running:
            state += f" (version {report.version})"
        rows.append((report.device, "-" if report.running is None else str(report.running),
                     (report.commit or "-")[:12], state,
                     "-" if report.at is None else _age(now - report.at),
                     report.reason or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([*(cell.ljust(width) for cell, width
                                  in zip(row[:-1], widths, strict=True)), row[-1]])
                     for row in rows)


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


def _whole(value: Any) -> int | None:
    return value if type(value) is int else None


def _clean(value: Any) -> str:
    """Report text fit for a terminal: printable, one line, bounded."""
    text = value if isinstance(value, str) else json.dumps(value)
    text = "".join(c if c.isprintable() else "?" for c in "; ".join(text.splitlines()))
    return text if len(text) <= _PRINTABLE_LIMIT else text[:_PRINTABLE_LIMIT - 3] + "..."
