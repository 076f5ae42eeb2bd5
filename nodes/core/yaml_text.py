"""YAML text to message values and back, for the yaml and template nodes: read as js-yaml 4
(Node-RED's parser) reads YAML 1.2, through PyYAML's safe loader, with hostile texts
(alias bombs, deep nesting, huge documents, object-constructing tags) refused."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import Node as YamlNode
from yaml.nodes import ScalarNode
from yaml.resolver import BaseResolver

from portless.runtime import MISSING
from portless.runtime.canonical import number_text

MAX_TEXT = 1_048_576
"""Characters of YAML text read at most (1 MiB): parsing is slow, and it blocks the flow."""
MAX_VALUES = 200_000
"""Values a document may hold, counting each use of an alias anew (a billion laughs
shares one object a billion times; anything that copies or writes it expands it)."""
MAX_DEPTH = 32
"""Levels of lists and mappings, as safe_json allows."""
LARGEST_INTEGER = 2**53 - 1
"""Beyond this Node-RED's numbers are rounded; refused, as the json node refuses them."""

_BLANK = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*")
"""Text that is JavaScript's white space only."""
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?(?:0b[01]+|0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)")
_FLOAT = re.compile(r"[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_FLOAT_SPECIAL = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?")


class YamlRefused(ValueError):
    """A YAML text that cannot or may not be read, with a sentence saying why."""


def _core_tag(value: str) -> str:
    """The tag js-yaml 4's default schema resolves a plain scalar to (YAML 1.2 core, plus
    timestamps and merge keys): ``yes`` and ``on`` are texts, ``0o17`` an integer."""
    if _NULL.fullmatch(value):
        return "tag:yaml.org,2002:null"
    if _BOOL.fullmatch(value):
        return "tag:yaml.org,2002:bool"
    if _INT.fullmatch(value):
        return "tag:yaml.org,2002:int"
    if _FLOAT_SPECIAL.fullmatch(value) or (_FLOAT.fullmatch(value)
                                           and math.isfinite(float(value))):
        return "tag:yaml.org,2002:float"
    if _DATE.fullmatch(value) or _TIMESTAMP.fullmatch(value):
        return "tag:yaml.org,2002:timestamp"
    if value == "<<":
        return _MERGE
    return _STR


class _CoreResolver(BaseResolver):
    """Plain scalars resolved as js-yaml 4 resolves them."""

    def resolve(self, kind: type[YamlNode], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            return _core_tag(value)
        result: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return result


class _Constructor(SafeConstructor):
    """Scalars built as js-yaml builds them; sets, ordered maps and pairs as the JSON
    values js-yaml makes of them."""

    def _int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
        base = {"0b": 2, "0x": 16, "0o": 8}.get(digits[:2], 10)
        return sign * int(digits[2:] if base != 10 else digits, base)

    def _float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node)).lower()
        if text.endswith(".inf"):
            return -math.inf if text[0] == "-" else math.inf
        return math.nan if text == ".nan" else float(text)

    def _timestamp(self, node: ScalarNode) -> str:
        """The instant as JavaScript's Date.toISOString writes it (js-yaml makes a Date)."""
        text = str(self.construct_scalar(node))
        whole = _DATE.fullmatch(text)
        if whole:
            year, month, day = map(int, whole.groups())
            moment = datetime(year, month, day, tzinfo=UTC)
        else:
            match = _TIMESTAMP.fullmatch(text)
            if match is None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{text!r} is no timestamp", node.start_mark)
            *fields, fraction, _, sign, tz_h, tz_m = match.groups()
            year, month, day, hour, minute, second = map(int, fields)
            millis = int((fraction or "")[:3].ljust(3, "0"))
            moment = datetime(year, month, day, hour, minute, second, millis * 1000,
                              tzinfo=UTC)
            if sign:
                offset = timedelta(hours=int(tz_h), minutes=int(tz_m or 0))
                moment -= offset if sign == "+" else -offset
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def construct_mapping(  # type: ignore[override]
            self, node: Any, deep: bool = False) -> dict[str, Any]:
        """A mapping with texts for keys, as js-yaml makes it (``1`` and ``true`` are two
        keys, not one as in Python); a key given twice is an error, as in js-yaml,
        though a key of its own may override one merged in with ``<<``."""
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, "expected a mapping", node.start_mark)
        own = sum(1 for key, _ in node.value if key.tag != _MERGE)
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        merged = len(node.value) - own  # flatten_mapping put the merged pairs first
        seen: set[str] = set()
        for number, (key_node, value_node) in enumerate(node.value):
            key = _key_text(self.construct_object(key_node, deep=deep), key_node)
            if number >= merged:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found the key {key!r} twice", key_node.start_mark)
                seen.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _set(self, node: Any) -> Any:
        data: dict[Any, Any] = {}
        yield data
        data.update(dict.fromkeys(self.construct_mapping(node)))

    def _omap(self, node: Any) -> Any:
        data: list[Any] = []
        yield data
        data.extend({key: value} for key, value in self._one_key_items(node))

    def _pairs(self, node: Any) -> Any:
        data: list[Any] = []
        yield data
        data.extend([key, value] for key, value in self._one_key_items(node))

    def _merge_text(self, node: ScalarNode) -> str:
        """``<<`` where it is a value, not a key: the text itself, as in js-yaml."""
        return str(self.construct_scalar(node))

    def _one_key_items(self, node: Any) -> list[tuple[Any, Any]]:
        """The key and value of each one-key mapping in the sequence, in order."""
        if not isinstance(node, yaml.SequenceNode):
            raise yaml.constructor.ConstructorError(
                None, None, "an ordered map or pairs must be a sequence", node.start_mark)
        pairs: list[tuple[Any, Any]] = []
        for item in node.value:
            if not (isinstance(item, yaml.MappingNode) and len(item.value) == 1):
                raise yaml.constructor.ConstructorError(
                    None, None, "each item of an ordered map or pairs must be a mapping "
                    "of one key", item.start_mark)
            pairs.extend(self.construct_mapping(item).items())
        return pairs


for _tag, _method in (("int", _Constructor._int),
                      ("float", _Constructor._float),
                      ("timestamp", _Constructor._timestamp),
                      ("set", _Constructor._set),
                      ("omap", _Constructor._omap),
                      ("pairs", _Constructor._pairs),
                      ("merge", _Constructor._merge_text)):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _method)  # type: ignore[type-var]

if not yaml.__with_libyaml__:  # its parser refuses nesting past 1,000 levels, and is fast
    raise ImportError("PyYAML is installed without libyaml: reinstall it from a wheel")


class _Loader(_Constructor, _CoreResolver, yaml.CSafeLoader):
    """libyaml's parser with this module's scalars and mappings."""


def load_yaml(text: str) -> Any:
    """The value of a one-document YAML text, MISSING where it holds no document (js-yaml's
    undefined); YamlRefused with the reason where it cannot or may not be read."""
    if len(text) > MAX_TEXT:
        raise YamlRefused(f"the text is {len(text):,} characters long; at most "
                          f"{MAX_TEXT:,} are read")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:  # js-yaml: nothing for blank text, null for a comment or "---"
            return MISSING if _BLANK.fullmatch(text) else None
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise YamlRefused(_problem(exc)) from None
    except yaml.YAMLError as exc:  # a character YAML does not allow
        raise YamlRefused(" ".join(str(exc).split())) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise YamlRefused(f"a value cannot be read: {exc}") from None
    finally:
        loader.dispose()
    return _Checked().value(value, 0)


def _problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's error as one sentence with its place (line and column from 1)."""
    mark = exc.problem_mark or exc.context_mark
    what = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
    return what if mark is None else f"{what} (line {mark.line + 1}, column {mark.column + 1})"


class _Checked:
    """A constructed document as a message value: aliases expanded into copies (so
    changing one place does not change another), keys as texts (js-yaml's), bounded."""

    def __init__(self) -> None:
        self._count = 0
        self._open: set[int] = set()

    def value(self, value: Any, depth: int) -> Any:
        self._count += 1
        if self._count > MAX_VALUES:
            raise YamlRefused(f"the document holds more than {MAX_VALUES:,} values "
                              "(counting each use of an alias)")
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise YamlRefused(f"the document nests deeper than {MAX_DEPTH} levels")
            if id(value) in self._open:
                raise YamlRefused("an alias refers to a value that holds it (a recursive "
                                  "alias)")
            self._open.add(id(value))
            try:
                if isinstance(value, list):
                    return [self.value(item, depth + 1) for item in value]
                return {key: self.value(item, depth + 1) for key, item in value.items()}
            finally:
                self._open.discard(id(value))
        if isinstance(value, float) and not math.isfinite(value):
            raise YamlRefused(f"the document holds {_special(value)}, which no JSON value "
                              "is")
        if isinstance(value, int) and not isinstance(value, bool) \
                and abs(value) > LARGEST_INTEGER:
            raise YamlRefused(f"the integer {value} is beyond 2^53 - 1 (Node-RED would "
                              "round it)")
        return value


def _special(value: float) -> str:
    return ".nan" if value != value else ("-.inf" if value < 0 else ".inf")


def _key_text(key: Any, node: YamlNode) -> str:
    """A mapping key as js-yaml gives it: a text (``1: a`` is the key ``"1"``)."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return number_text(key) if math.isfinite(key) else str(key)
    if isinstance(key, int):
        return str(key)
    raise yaml.constructor.ConstructorError(
        "while constructing a mapping", None,
        f"found a key that is {type(key).__name__}, not a text or number", node.start_mark)


# --- writing ---------------------------------------------------------------------------
_OLD_BOOLEANS = frozenset({"y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
                           "n", "N", "no", "No", "NO", "off", "Off", "OFF"})
"""YAML 1.1's booleans, which js-yaml quotes on writing for older readers."""
_SIGNED_FRACTION = re.compile(r"[-+]\.[0-9]+(?:[eE][-+]?[0-9]+)?")
"""A float to YAML 1.2's core schema (``-.5``), quoted as js-yaml quotes it."""


class _Dumper(yaml.SafeDumper):
    """js-yaml's layout: a list inside a mapping indented under its key, keys in their
    order; a text is written plain only where YAML 1.1 (PyYAML's) and 1.2 (js-yaml's)
    both read it back as a text, so ``yes``, ``012`` and ``0o17`` are quoted."""

    def resolve(self, kind: type[YamlNode], value: Any, implicit: tuple[bool, bool]) -> str:
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        if kind is ScalarNode and implicit[0] and tag == _STR:
            if value in _OLD_BOOLEANS or _SIGNED_FRACTION.fullmatch(value):
                return "tag:yaml.org,2002:bool"  # quoted, as js-yaml quotes them
            return _core_tag(value)
        return tag

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def represent_float(self, data: float) -> Any:
        """A number as JavaScript writes it (2.0 is 2), with the dot YAML needs (1.e-7)."""
        if data == 0 and math.copysign(1, data) < 0:
            return self.represent_scalar("tag:yaml.org,2002:float", "-0.0")
        if math.isfinite(data) and data.is_integer() and abs(data) < 1e21:
            return self.represent_int(int(data))
        if not math.isfinite(data):
            text = _special(data)
        else:
            text = number_text(data)
            text = re.sub(r"^([-+]?[0-9]+)e", r"\1.e", text)
        return self.represent_scalar("tag:yaml.org,2002:float", text)


    def represent_str(self, data: str) -> Any:
        """A text of several lines as a literal block (``|``), as js-yaml writes it."""
        if "\n" in data:
            return self.represent_scalar(_STR, data, style="|")
        return super().represent_str(data)


_Dumper.add_representer(float, _Dumper.represent_float)
_Dumper.add_representer(str, _Dumper.represent_str)


_NO_FOLDING = 1_000_000
"""Long texts stay on one line (js-yaml folds at 80 its own way; PyYAML differently)."""


def dump_yaml(value: Any) -> str:
    """A YAML text of the value, laid out as js-yaml's dump lays it out; YamlRefused
    for a value YAML cannot hold (a Python object) or one nested too deep to write."""
    try:
        text: str = yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                              default_flow_style=False, width=_NO_FOLDING)
    except yaml.representer.RepresenterError as exc:
        raise YamlRefused(f"a {type(exc.args[-1]).__name__} is no value YAML holds") from None
    except RecursionError:
        raise YamlRefused("it nests too deep to write") from None
    return text.removesuffix("...\n")  # PyYAML ends a lone plain value with "..."
