"""Mustache templates as mustache.js 4 (Node-RED's template node) parses and renders them,
over message values, with every render bounded in output and work so a hostile
template (sections over big lists, nested) fails instead of wedging the flow."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portless.nodes.js_values import js_string
from portless.runtime import MISSING

MAX_DEPTH = 32
"""Sections nested in one another, at most."""
MAX_OUTPUT = 1_048_576
"""Characters one render may write (1 MiB)."""
MAX_STEPS = 1_000_000
"""Tags and texts one render may visit, counting each pass of a section over a list."""

_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""JavaScript's white space (its regular expressions' \\s), which mustache.js skips."""
_TEXT_RUNS = re.compile(f"\n|[{_SPACE.replace(chr(10), '')}]+|[^{_SPACE}]+")
_SPACES = re.compile(f"[{_SPACE}]*")
_WHITE = re.compile(f"[{_SPACE}]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
            "/": "&#x2F;", "`": "&#x60;", "=": "&#x3D;"}
_HTML = re.compile("[&<>\"'`=/]")
_JSON_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f",
                 "\b": "\\b"}
_JSON = re.compile("[\\\\\n\t\r\f\b]")
_INDEX = re.compile("0|[1-9][0-9]*")


class TemplateError(ValueError):
    """A template mustache.js would not parse, in its words ("Unclosed tag at 8")."""


class RenderLimit(ValueError):
    """A render that would write or do more than it may."""


@dataclass(frozen=True, slots=True)
class Tag:
    """One tag: ``kind`` is ``name`` (escaped), ``&`` (unescaped), ``#`` (section) or
    ``^`` (inverted section, ``children`` inside); partials, comments and delimiter
    changes render nothing and are left out."""

    kind: str
    name: str
    children: tuple[Tag | str, ...] = ()


Template = tuple[Tag | str, ...]
Fallback = Callable[[str], Any]
"""The value of a name the views do not hold (Node-RED's env., flow. and global.),
MISSING for none."""


def parse(text: str) -> Template:
    """The template's tags and texts, as mustache.js parses it: a line holding only
    section, comment or delimiter tags and white space leaves no trace in the output."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens: list[list[Any] | None] = []  # [kind, value, start, children]
        self._spaces: list[int] = []
        self._has_tag = self._non_space = False
        self._set_tags("{{", "}}")

    def _set_tags(self, opening: str, closing: str) -> None:
        space = f"[{_SPACE}]*"
        self._opening = re.compile(re.escape(opening) + space)
        self._closing = re.compile(space + re.escape(closing))
        self._closing_curly = re.compile(space + re.escape("}" + closing))

    def _strip_space(self) -> None:
        """Forget the white space of a line that had tags and nothing else."""
        if self._has_tag and not self._non_space:
            for index in self._spaces:
                self._tokens[index] = None
        self._spaces = []
        self._has_tag = self._non_space = False

    def parse(self) -> Template:
        text, pos, sections = self._text, 0, []
        while pos < len(text):
            opening = self._opening.search(text, pos)
            end = opening.start() if opening else len(text)
            for run in _TEXT_RUNS.finditer(text, pos, end):
                piece = run.group()
                if _WHITE.match(piece):
                    self._spaces.append(len(self._tokens))
                else:
                    self._non_space = True
                self._tokens.append(["text", piece, run.start(), None])
                if piece == "\n":
                    self._strip_space()
            if opening is None:
                break
            start, pos = opening.start(), opening.end()
            self._has_tag = True
            kind = text[pos] if pos < len(text) and text[pos] in "#^/>{&=!" else "name"
            pos = self._skip(_SPACES, pos + (kind != "name"))
            if kind == "=":
                value, pos = self._until(re.compile(f"[{_SPACE}]*="), pos)
                pos = self._skip(re.compile(f"[{_SPACE}]*="), pos)
                _, pos = self._until(self._closing, pos)
            elif kind == "{":
                value, pos = self._until(self._closing_curly, pos)
                pos = self._skip(re.compile(f"[{_SPACE}]*}}"), pos)
                _, pos = self._until(self._closing, pos)
                kind = "&"
            else:
                value, pos = self._until(self._closing, pos)
            closing = self._closing.match(text, pos)
            if closing is None:
                raise TemplateError(f"Unclosed tag at {pos}")
            pos = closing.end()
            token: list[Any] = [kind, value, start, None]
            self._tokens.append(token)
            if kind in "#^":
                sections.append(token)
                if len(sections) > MAX_DEPTH:
                    raise TemplateError(f"Sections nest deeper than {MAX_DEPTH} at {start}")
            elif kind == "/":
                if not sections:
                    raise TemplateError(f'Unopened section "{value}" at {start}')
                opened = sections.pop()[1]
                if opened != value:
                    raise TemplateError(f'Unclosed section "{opened}" at {start}')
            elif kind in ("name", "&"):
                self._non_space = True
            elif kind == "=":
                tags = re.split(f"[{_SPACE}]+", value)[:2]
                if len(tags) != 2:
                    raise TemplateError(f"Invalid tags: {','.join(tags)}")
                self._set_tags(*tags)
        self._strip_space()
        if sections:
            raise TemplateError(f'Unclosed section "{sections[-1][1]}" at {pos}')
        return _nested([token for token in self._tokens if token is not None])

    def _until(self, pattern: re.Pattern[str], pos: int) -> tuple[str, int]:
        """The text up to the pattern (all the rest where it does not occur), and where
        the pattern begins."""
        found = pattern.search(self._text, pos)
        end = found.start() if found else len(self._text)
        return self._text[pos:end], end

    def _skip(self, pattern: re.Pattern[str], pos: int) -> int:
        found = pattern.match(self._text, pos)
        return found.end() if found else pos


def _nested(tokens: list[list[Any]]) -> Template:
    """Flat tokens as a tree: each section holds what stands up to its closing tag, and
    neighbouring texts are one."""
    root: list[Tag | str] = []
    stack: list[tuple[list[Any], list[Tag | str]]] = []
    collector = root
    for kind, value, _, _ in tokens:
        if kind == "text":
            if collector and isinstance(collector[-1], str):
                collector[-1] += value
            else:
                collector.append(value)
        elif kind in "#^":
            stack.append(([kind, value], collector))
            collector = []
        elif kind == "/":
            (section_kind, name), outer = stack.pop()
            outer.append(Tag(section_kind, name, tuple(collector)))
            collector = outer
        elif kind in ("name", "&"):
            collector.append(Tag(kind, value))
    return tuple(root)


def render(template: Template, view: Any, fallback: Fallback, *,
           json_strings: bool = False) -> str:
    """The template over the view (a message), as mustache.js renders it; a name no view
    holds is asked of ``fallback``. ``json_strings`` escapes a message's texts for a JSON
    string (backslash, newline, tab...), as Node-RED does where the output is JSON."""
    return _Render(fallback, json_strings).run(template, view)


class _Render:
    def __init__(self, fallback: Fallback, json_strings: bool) -> None:
        self._fallback, self._json_strings = fallback, json_strings
        self._out: list[str] = []
        self._length = self._steps = 0

    def run(self, template: Template, view: Any) -> str:
        self._tokens(template, [view])
        return "".join(self._out)

    def _write(self, text: str) -> None:
        self._length += len(text)
        if self._length > MAX_OUTPUT:
            raise RenderLimit(f"the result would be longer than {MAX_OUTPUT:,} characters")
        self._out.append(text)

    def _tokens(self, tokens: Template, stack: list[Any]) -> None:
        self._steps += 1 + len(tokens)
        if self._steps > MAX_STEPS:
            raise RenderLimit(f"the template takes more than {MAX_STEPS:,} steps over "
                              "this message")
        for token in tokens:
            if isinstance(token, str):
                self._write(token)
                continue
            value = self._value(token.name, stack)
            if token.kind == "#":
                if _falsy(value):
                    continue
                if isinstance(value, list):
                    for item in value:
                        self._tokens(token.children, [*stack, item])
                elif value is True:
                    self._tokens(token.children, stack)
                else:
                    self._tokens(token.children, [*stack, value])
            elif token.kind == "^":
                if _falsy(value) or value == []:
                    self._tokens(token.children, stack)
            elif value is not None:
                text = js_string(value)
                self._write(_HTML.sub(_html_entity, text) if token.kind == "name" else text)

    def _value(self, name: str, stack: list[Any]) -> Any:
        value = lookup(name, stack)
        if value is MISSING:
            value = self._fallback(name)
            return "" if value is MISSING else value
        if self._json_strings and isinstance(value, str):
            return _JSON.sub(_json_escape, value)
        return value


def lookup(name: str, stack: list[Any]) -> Any:
    """A name's value in the innermost view that holds it, as mustache.js looks it up:
    ``a.b`` is taken from the first view in which the whole path leads somewhere."""
    if name == ".":
        return stack[-1]
    parts = name.split(".") if name.find(".") > 0 else None
    for view in reversed(stack):
        if parts is None:
            found = _member(view, name) if _is_object(view) else MISSING
            if found is not MISSING:
                return found
            continue
        value = view
        for part in parts[:-1]:
            value = _member(value, part)
            if value is MISSING or value is None:
                break
        else:
            if value is not None:
                found = _member(value, parts[-1])
                if found is not MISSING:
                    return found
    return MISSING


def _is_object(value: Any) -> bool:
    return isinstance(value, dict | list | bytes | bytearray)


def _member(value: Any, key: str) -> Any:
    """A value's own member as JavaScript reads ``value[key]``, MISSING where it has none
    (JavaScript's prototype, ``toString`` and the like, is not read)."""
    if isinstance(value, dict):
        return value.get(key, MISSING)
    if isinstance(value, list | str | bytes | bytearray):
        if key == "length":
            return len(value)
        if _INDEX.fullmatch(key) and int(key) < len(value):
            return value[int(key)]
    return MISSING


def _falsy(value: Any) -> bool:
    """JavaScript's falsy values: false, 0, NaN, "", null and undefined."""
    if value is MISSING or value is None or value is False:
        return True
    if isinstance(value, str):
        return value == ""
    return isinstance(value, int | float) and (value == 0 or value != value)


def _html_entity(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def _json_escape(match: re.Match[str]) -> str:
    return _JSON_ESCAPES[match.group()]
