"""The sequence group: split, join, batch and sort."""

from __future__ import annotations

from typing import Any

from .source import Mapped, NotConvertible, Source, whole
from .values import json_of, typed

_ESCAPES = (("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"), ("\\e", "e"), ("\\f", "\f"),
            ("\\0", "\0"))


def unescaped(text: str) -> str:
    """A delimiter as Node-RED's split and join read theirs: \\n, \\r, \\t, \\f and \\0
    written as two characters are the character (\\e is an e, as JavaScript has it)."""
    for written, meant in _ESCAPES:
        text = text.replace(written, meant)
    return text


def _path(node: Source, key: str, default: str = "payload") -> str:
    return node.text(key, default).removeprefix("msg.") or default


def _byte_list(node: Source, text: str, key: str) -> list[int]:
    value = json_of(text or "[]", key)
    if not isinstance(value, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value):
        raise NotConvertible(f"{key}: {text!r} is not a list of byte values")
    return value


def split(node: Source) -> Mapped:
    by = node.text("spltType", "str") or "str"
    config: dict[str, Any] = {"property": _path(node, "property")}
    splt = node.text("splt")
    if by == "str":
        config["delimiter"] = unescaped(splt or "\\n")
    elif by == "bin":
        config.update(split_by="bytes", delimiter_bytes=_byte_list(node, splt, "splt"))
    elif by == "len":
        config.update(split_by="length", length=int(node.number("splt", 1)))
    else:
        raise NotConvertible(f"spltType: unknown kind {by!r}")
    array = int(node.number("arraySplt", 1))
    if array != 1:
        config["array_length"] = array
    if node.flag("stream"):
        config["stream"] = True
    if node.text("addname"):
        config["key_property"] = node.text("addname").removeprefix("msg.")
    return Mapped("split", config)


_JOIN_MODES = {"auto": "auto", "custom": "manual", "reduce": "reduce"}
_REDUCE_INITIAL = ("string", "number", "boolean", "json", "jsonata", "env", "flow", "global")


def join(node: Source) -> Mapped:
    """Every field is kept whatever the mode, as Node-RED keeps them (only the mode's own
    are used); the reduce fields only in reduce mode, where they mean something."""
    mode = node.choice("mode", _JOIN_MODES, "auto", "mode")
    config: dict[str, Any] = {
        "mode": _JOIN_MODES[mode], "build": node.text("build", "array") or "array",
        "key_property": _path(node, "key", "topic"), "count": int(node.number("count", 0)),
        "timeout": whole(node.number("timeout", 0)), "accumulate": node.flag("accumulate"),
        "use_parts": node.flag("useparts", True)}
    if node.text("propertyType", "msg") == "full":
        config["whole_message"] = True
    else:
        config["property"] = _path(node, "property")
    if node.text("joinerType", "str") == "bin":
        config.update(join_with="bytes",
                      joiner_bytes=_byte_list(node, node.text("joiner"), "joiner"))
    else:
        config["joiner"] = unescaped(node.text("joiner"))
    if mode == "reduce":
        config.update(reduce_expression=node.text("reduceExp") or "$A",
                      reduce_right=node.flag("reduceRight"),
                      reduce_initial=typed(node, node.raw.get("reduceInit", ""),
                                           node.text("reduceInitType", "num") or "num",
                                           _REDUCE_INITIAL, "reduceInit"))
        if node.text("reduceFixup").strip():
            config["reduce_fixup"] = node.text("reduceFixup")
    return Mapped("join", config)


def batch(node: Source) -> Mapped:
    mode = node.choice("mode", ("count", "interval", "concat"), "count", "mode")
    topics = [entry.get("topic") if isinstance(entry, dict) else entry
              for entry in node.items("topics")]
    if not all(isinstance(topic, str) for topic in topics):
        raise NotConvertible("topics: a topic that is no text")
    config: dict[str, Any] = {"mode": mode, "count": int(node.number("count", 1)) or 1,
                              "overlap": int(node.number("overlap", 0)),
                              "complete_with_parts": node.flag("honourParts"),
                              "send_empty": node.flag("allowEmptySequence"),
                              "topics": topics}
    interval = node.number("interval", 0)
    if interval > 0 or mode == "interval":
        config["interval"] = whole(interval)
    return Mapped("batch", config)


def sort(node: Source) -> Mapped:
    sequence = node.text("targetType", "msg") == "seq"
    config: dict[str, Any] = {"target": "sequence" if sequence else "property",
                              "order": node.text("order", "ascending") or "ascending"}
    if node.flag("as_num"):
        config["as_number"] = True
    if not sequence:
        config["property"] = _path(node, "target")
    kind, key = (node.text("seqKeyType"), node.text("seqKey")) if sequence \
        else (node.text("msgKeyType"), node.text("msgKey"))
    if kind == "jsonata":
        config.update(key_by="jsonata", key_expression=key or "$")
    elif sequence:
        config["key_property"] = key.removeprefix("msg.") or "payload"
    return Mapped("sort", config)


TABLE = {"split": split, "join": join, "batch": batch, "sort": sort}
