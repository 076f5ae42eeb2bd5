"""Where the log goes and how much of it there is: stderr, journald or a rotating file.

A device's log must not fill its storage: node events are rate-limited where they are
written (runtime/events.py), gmqtt's own lines (every packet at debug level, about
800 MB in 100 s of a flood) appear only with ``--log-mqtt-packets``, and ``--log-file``
rotates. Under systemd, stderr goes to journald, which stamps the time itself and reads
a ``<N>`` priority prefix, so ``journalctl -p warning`` works.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from pathlib import Path

GMQTT_LOGGERS = ("gmqtt", "portless.mqtt.gmqtt")
"""gmqtt's own loggers: its protocol module, and its client and handler (named by us)."""

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"  # journald adds the time

# syslog priorities, as journald reads them from a "<N>" line prefix.
_PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
               logging.CRITICAL: 2}


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``portless run`` that say how much is logged and where."""
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"], help="default: info")
    parser.add_argument("--log-mqtt-packets", action="store_true",
                        help="also log gmqtt's own lines: every MQTT packet sent and "
                             "received (very verbose; for debugging the link)")
    parser.add_argument("--log-file", type=Path, default=None, metavar="PATH",
                        help="log to PATH instead of stderr, rotated by size")
    parser.add_argument("--log-file-size", type=_size, default="10M", metavar="SIZE",
                        help="with --log-file: rotate when the file would pass SIZE bytes "
                             "(K, M and G suffixes allowed; default 10M)")
    parser.add_argument("--log-file-count", type=_count, default=5, metavar="N",
                        help="with --log-file: keep N rotated files, PATH.1 to PATH.N "
                             "(default 5)")


def configure_logging(args: argparse.Namespace) -> None:
    """Set up the root logger from the options (commands without them log at INFO)."""
    level = getattr(args, "log_level", "info").upper()
    log_file: Path | None = getattr(args, "log_file", None)
    handler: logging.Handler
    if log_file is not None:
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=args.log_file_size,
            backupCount=args.log_file_count, encoding="utf-8")
        handler.setFormatter(logging.Formatter(FORMAT))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(JournalFormatter(JOURNAL_FORMAT) if _stderr_is_journal()
                             else logging.Formatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    packets = getattr(args, "log_mqtt_packets", False)
    for name in GMQTT_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if packets else logging.WARNING)


class JournalFormatter(logging.Formatter):
    """A line journald files under the record's priority (``<4>`` for a warning)."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITIES.get(record.levelno, 6)
        return "\n".join(f"<{priority}>{line}"
                         for line in super().format(record).splitlines() or [""])


def _stderr_is_journal() -> bool:
    """True when stderr is journald's stream (systemd sets JOURNAL_STREAM=DEV:INODE)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def _size(text: str) -> int:
    """``4096``, ``512K``, ``10M`` or ``1G`` as a number of bytes (at least 1)."""
    number, unit = (text[:-1], text[-1].upper()) if text[-1:].isalpha() else (text, "")
    if unit in _UNITS and number.isdigit() and int(number) > 0:
        return int(number) * _UNITS[unit]
    raise argparse.ArgumentTypeError(f"must be a size such as 4096, 512K or 10M, not {text!r}")


def _count(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
