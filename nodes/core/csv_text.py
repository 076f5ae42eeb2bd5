"""CSV text to rows and back, as Node-RED 4's csv node reads and writes it in its RFC 4180
mode: quoted cells with doubled quotes, CR, LF or CRLF between rows, a strict reading
for header rows and a forgiving one for data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from portless.nodes.js_values import js_string, to_number

_NOT_A_NUMBER_START = re.compile(r" *(?:\+|-0[0-9]|0[0-9])")


class CsvError(ValueError):
    """A text that a strict reading refuses, with the offset where it failed."""


@dataclass
class Parsed:
    rows: list[list[str | None]]
    """Each row's cells: None for a cell with nothing between its separators."""
    cursor: int
    """Where the reading stopped (after the first row, for ``first_row_only``)."""


def parse_rows(text: str, separator: str, *, cursor: int = 0, strict: bool = False,
               first_row_only: bool = False, quote: str = '"') -> Parsed:
    """The text's rows from ``cursor`` on. Strict: a quote inside an unquoted cell,
    text after a closing quote or a quote never closed is a CsvError; otherwise the
    stray quote is kept as text (as Node-RED's forgiving reading does)."""
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    cell: list[str] = []
    new_cell, in_quote, closed = True, False, False
    end = len(text)

    def finish_cell() -> None:
        joined = "".join(cell)
        cell.clear()
        row.append(joined or (None if new_cell else ""))

    def finish_row() -> None:
        nonlocal row
        if cell:
            finish_cell()
        if row:
            rows.append(row)
            row = []

    while cursor < end:
        char = text[cursor]
        if in_quote:
            if char == quote and text[cursor + 1:cursor + 2] == quote:
                cell.append(quote)
                cursor += 2
                closed = False
            elif char == quote:
                in_quote, closed = False, True
                cursor += 1
            else:
                cell.append(char)
                closed = False
                cursor += 1
            new_cell = False
        elif char == separator:
            finish_cell()
            cursor += 1
            new_cell, closed = True, False
        elif char == quote:
            if new_cell:
                in_quote, new_cell, closed = True, False, False
                cursor += 1
            elif strict:
                raise CsvError(f"a quote in the middle of an unquoted cell at {cursor}")
            else:
                cursor += 1
                following = text[cursor:cursor + 1]
                if following and following not in ("\n", "\r", separator):
                    cell.append(char)
                    if following == quote:
                        cursor += 1
        elif char in "\r\n":
            finish_row()
            cursor += 2 if text[cursor + 1:cursor + 2] == "\n" else 1
            new_cell, closed = True, False
            if first_row_only:
                break
        elif closed:
            if strict:
                raise CsvError(f"text after a closing quote at {cursor}")
            cursor -= 1  # read the closing quote again, as a stray one
            closed = False
        else:
            cell.append(char)
            new_cell = False
            cursor += 1
    if strict and in_quote:
        raise CsvError(f"a quote is never closed (at {cursor})")
    finish_row()
    return Parsed(rows, cursor)


def as_objects(rows: list[list[str | None]], headers: list[str | None], *,
               include_nulls: bool, include_empty: bool, numbers: bool) -> list[dict[str, Any]]:
    """Rows as objects keyed by the headers (an empty header leaves its column out); an
    absent cell is null; an object with nothing in it is no row."""
    objects = []
    for row in rows:
        obj: dict[str, Any] = {}
        for index, header in enumerate(headers):
            if not header:
                continue
            value: Any = row[index] if index < len(row) else None
            if value is None and not include_nulls:
                continue
            if value == "" and not include_empty:
                continue
            if numbers and value:
                value = _number(value)
            obj[header] = value
        if obj:
            objects.append(obj)
    return objects


def _number(text: str) -> Any:
    """The number a cell holds, as JavaScript's ``+text`` reads it, except where it
    starts with ``+`` or a leading zero (a phone number, a code), or is not finite."""
    if _NOT_A_NUMBER_START.match(text):
        return text
    number = to_number(text)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        return text
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def quote_cell(cell: str, separator: str, quote: str = '"') -> str:
    """A cell as CSV writes it: in quotes (inner quotes doubled) where it holds the
    separator, a quote or a line break."""
    if quote in cell:
        cell = cell.replace(quote, quote * 2)
        return quote + cell + quote
    if separator in cell or "\n" in cell or "\r" in cell:
        return quote + cell + quote
    return cell


def cell_text(value: Any) -> str:
    """A value as the text of a cell (Node-RED's ensureString): an object or list as
    JSON, null as ``null``, a number as JavaScript writes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if value is None or isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return js_string(value)


def header_text(headers: list[str | None]) -> str:
    """Node-RED's msg.columns: the non-empty headers, quoted as needed, joined by commas."""
    return ",".join(quote_cell(header, ",") for header in headers if header)
