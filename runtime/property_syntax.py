"""The syntax of Node-RED's property paths (``payload.values[2]``, ``a["b c"]``,
``a[msg.topic]``): one scan with the same states and rules as Node-RED's
``RED.util.normalisePropertyExpression``, quirks included (``a[0]b`` is a, 0, b), so a
path Node-RED takes is taken here and means the same steps. Control characters are
refused, on purpose: invisible in the editor, a pasted newline would name a key no
message has.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_STEP_START = re.compile(r"[A-Za-z0-9$_]")  # what may follow a '.' (Node-RED's rule)
_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_QUOTES = ("'", '"')

Key = str | int
"""A step as written: a name (``b`` in ``a.b``, ``"b"`` in ``a["b"]``) or an index."""


class Reference(NamedTuple):
    """A nested message reference, ``msg.topic`` in ``a[msg.topic]``: its value is the key."""

    text: str


def parse(text: str) -> list[Key | Reference]:
    """The steps of a path as Node-RED's normalisePropertyExpression finds them.

    Raises ValueError saying where the text stops being a path.
    """
    return _Parser(text).parts()


class _Parser:
    """One left-to-right scan, with the same states and rules as Node-RED's."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, why: str, at: int) -> ValueError:
        return ValueError(f"{why} at position {at}")

    def parts(self) -> list[Key | Reference]:
        text = self.text
        if not text:
            raise ValueError("is empty")
        control = _CONTROL.search(text)
        if control:
            raise self.fail(f"control character {control.group()!r}", control.start())
        parts: list[Key | Reference] = []
        start = 0  # where the name being read began
        in_box = False  # inside [...] of a number or a quoted name
        at = 0
        end = len(text)
        while at < end:
            char = text[at]
            if char in _QUOTES:
                at = self._quoted(parts, at, start, in_box)
                start = at
                continue
            if char == ".":
                if at == 0:
                    raise self.fail("unexpected '.'", at)
                if start != at:
                    parts.append(_name_or_number(text[start:at]))
                if at == end - 1:
                    raise self.fail("nothing after '.'", at)
                if not _STEP_START.match(text[at + 1]):
                    raise self.fail(f"unexpected {text[at + 1]!r}", at + 1)
                start = at + 1
            elif char == "[":
                if at == 0:
                    raise self.fail("unexpected '['", at)
                if start != at:
                    parts.append(text[start:at])
                if at == end - 1:
                    raise self.fail("nothing after '['", at)
                if text.startswith(("msg.", "msg["), at + 1):
                    at = self._reference(parts, at)
                    start, in_box = at + 1, False
                elif text[at + 1] not in "'\"0123456789":
                    raise self.fail(f"unexpected {text[at + 1]!r}", at + 1)
                else:
                    start, in_box = at + 1, True
            elif char == "]":
                if not in_box:
                    raise self.fail("unexpected ']'", at)
                if start != at:
                    if not _DIGITS.fullmatch(text[start:at]):
                        raise self.fail("a name in [] must be quoted", start)
                    parts.append(int(text[start:at]))
                start, in_box = at + 1, False
            elif char == " ":
                raise self.fail("unexpected space", at)
            at += 1
        if in_box:
            raise self.fail("unclosed '['", end)
        if start < end:
            parts.append(text[start:])
        return parts

    def _quoted(self, parts: list[Key | Reference], at: int, start: int, in_box: bool) -> int:
        """Read a quoted name at ``at``; return the position just after its quote."""
        text = self.text
        if at != start:
            raise self.fail(f"unexpected {text[at]}", at)
        close = text.find(text[at], at + 1)
        if close < 0:
            raise self.fail("unclosed quote", at)
        if close == at + 1:
            raise self.fail("empty quoted name", at + 1)
        parts.append(text[at + 1:close])
        after = text[close + 1:close + 2]
        if in_box and after != "]":
            raise self.fail("expected ']' after the quoted name", close + 1)
        if not in_box and after not in ("", "[", "."):
            raise self.fail(f"unexpected {after!r}", close + 1)
        return close + 1

    def _reference(self, parts: list[Key | Reference], at: int) -> int:
        """Read ``[msg...]`` opening at ``at``; return the position of its ``]``.

        As Node-RED, the closing bracket is found by counting brackets, quoted or not.
        """
        text, depth = self.text, 0
        for close in range(at, len(text)):
            depth += {"[": 1, "]": -1}.get(text[close], 0)
            if depth == 0:
                break
        else:
            raise self.fail("unclosed '['", at)
        inner = text[at + 1:close]
        try:
            parse(inner)  # as written, "msg." and all: "msg.-a" is no reference, "-a" a path
        except ValueError as exc:
            raise self.fail(f"bad message reference ({exc})", at + 1) from None
        parts.append(Reference(inner))
        return close


def _name_or_number(name: str) -> Key:
    """A name before a '.' that is all digits is a number (``a.0.b``), as in Node-RED."""
    return int(name) if _DIGITS.fullmatch(name) else name
