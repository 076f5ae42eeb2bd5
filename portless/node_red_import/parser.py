"""The parser group: json, yaml and csv."""

from __future__ import annotations

from typing import Any

from .source import Mapped, NotConvertible, Source

_JSON_ACTIONS = {"": "both", "str": "string", "obj": "object"}


def json_(node: Source) -> Mapped:
    action = node.text("action")
    if action not in _JSON_ACTIONS:
        raise NotConvertible(f"action: unknown action {action!r}")
    config: dict[str, Any] = {"action": _JSON_ACTIONS[action]}
    prop = node.text("property", "payload").removeprefix("msg.") or "payload"
    if prop != "payload":
        config["property"] = prop
    if node.flag("pretty"):
        config["pretty"] = True
    return Mapped("json", config)


def yaml(node: Source) -> Mapped:
    prop = node.text("property", "payload").removeprefix("msg.") or "payload"
    return Mapped("yaml", {"property": prop} if prop != "payload" else {})


_CSV_ESCAPES = (("\\t", "\t"), ("\\n", "\n"), ("\\r", "\r"))
_ROWS_AS = {"one": "messages", "mult": "array"}
_HEADER_OUT = {"none": "none", "all": "all", "once": "once", "false": "none", "true": "all"}


def _csv_text(text: str) -> str:
    """A separator or line end as Node-RED's csv reads it: \\t, \\n and \\r written
    as two characters are the character."""
    for written, meant in _CSV_ESCAPES:
        text = text.replace(written, meant)
    return text


def csv(node: Source) -> Mapped:
    """Node-RED 4's RFC 4180 mode for ``spec: rfc``; a flow saved before 4.0 has no spec
    and keeps the legacy parser it was written for (portless's csv has both)."""
    rfc = node.text("spec") == "rfc"
    multi = node.choice("multi", _ROWS_AS, "one", "output")
    header = node.choice("hdrout", _HEADER_OUT, "none", "header option")
    line_end = _csv_text(node.text("ret") or ("\\r\\n" if rfc else "\\n"))
    if line_end not in ("\r\n", "\n", "\r"):
        raise NotConvertible(f"ret: {line_end!r} is not a line end (CRLF, LF or CR)")
    separator = _csv_text(node.text("sep") or ",")
    if len(separator) != 1:
        raise NotConvertible(f"sep: {separator!r} is not one character")
    config: dict[str, Any] = {
        "mode": "rfc" if rfc else "legacy", "columns": node.text("temp"),
        "separator": separator, "columns_from_first_row": node.flag("hdrin"),
        "header_out": _HEADER_OUT[header], "rows_as": _ROWS_AS[multi],
        "line_end": line_end, "skip": int(node.number("skip", 0)),
        "parse_numbers": node.flag("strings"),
        "include_empty_strings": node.flag("include_empty_strings"),
        "include_null_values": node.flag("include_null_values")}
    return Mapped("csv", config)


TABLE = {"json": json_, "yaml": yaml, "csv": csv}
