"""CSV as Node-RED's csv node reads and writes it in its legacy mode (that of flows saved
before Node-RED 4.0, without ``spec: "rfc"``): column names trimmed and unquoted, cells
cut at separators outside quotes, a quote only doubled on writing where one is inside."""

from __future__ import annotations

import re
from typing import Any

from portless.nodes.core.csv_text import cell_text
from portless.nodes.js_values import js_string, parse_float

_NUMBER = re.compile(r"-?(?!E)(?!0\d)\d*\.?\d*(E-?\+?)?\d+", re.IGNORECASE)


def legacy_columns(text: str, separator: str = ",") -> list[str]:
    """Column names as legacy mode reads a template: split at separators outside quotes,
    quotes dropped, white space trimmed; ``[""]`` for none."""
    parts = re.split(re.escape(separator) + r'(?=(?:(?:[^"]*"){2})*[^"]*$)', text.strip())
    return [part.replace('"', "").strip() for part in parts]


def has_columns(columns: list[str]) -> bool:
    return columns != [""]


class LegacyReader:
    """One text's rows as objects, cell by cell as legacy mode cuts them; ``columns``
    may come from the text's first line, and is what the node keeps using after."""

    def __init__(self, columns: list[str], *, separator: str, numbers: bool,
                 include_nulls: bool, include_empty: bool) -> None:
        self.columns = columns
        self._positional = not has_columns(columns)
        """No names given: columns are col1, col2... as far as the cells go."""
        self._sep, self._numbers = separator, numbers
        self._nulls, self._empty = include_nulls, include_empty
        self.unbalanced = False

    def read(self, text: str, *, first: bool, line: int, skip: int,
             header_in: bool) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        outside, column = True, 0
        values: list[str | None] = [""]  # per column: None where nothing stood
        obj: dict[str, Any] = {}
        header = ""
        last = len(text) - 1
        for index, char in enumerate(text):
            if first and line < skip:
                if char == "\n":
                    line += 1
                continue
            if header_in and first:
                if char in "\r\n" or index == last:
                    if index == last and char not in "\r\n":
                        header += char
                    self.columns = legacy_columns(header, self._sep)
                    self._positional, first = not has_columns(self.columns), False
                else:
                    header += char
                continue
            previous = text[index - 1] if index > 0 else ""
            if char == '"':
                outside = not outside
                if previous == '"' and not outside:
                    values[column] = (values[column] or "") + '"'
            elif char == self._sep and outside:
                if previous in (self._sep, "\n"):
                    values[column] = None
                self._store(obj, column, values[column])
                column += 1
                values.append(None if index == last else "")
            elif char in "\r\n" and outside:
                if previous == self._sep:
                    values[column] = None
                self._store(obj, column, values[column])
                if obj:
                    rows.append(obj)
                column, values, obj, outside = 0, [""], {}, True
            else:
                values[column] = (values[column] or "") + char
        self.unbalanced = not outside
        self._store(obj, column, values[column])
        if obj:
            rows.append(obj)
        return rows

    def _store(self, obj: dict[str, Any], column: int, value: str | None) -> None:
        if self._positional:
            while len(self.columns) <= column:
                self.columns.append("")
            self.columns[column] = f"col{column + 1}"
        name = self.columns[column] if column < len(self.columns) else ""
        if not name:
            return
        cell: Any = value
        if value is not None and self._numbers and _NUMBER.fullmatch(value.strip()):
            number = parse_float(value.strip())
            cell = int(number) if number.is_integer() and abs(number) < 2**53 else number
        if cell is None:
            if self._nulls:
                obj[name] = None
        elif cell == "":
            if self._empty:
                obj[name] = ""
        else:
            obj[name] = cell


def legacy_quoted(text: str, separator: str, *, also_key: str = "") -> str:
    """A cell as legacy mode writes it: quotes doubled and the cell quoted where it holds
    one; quoted where it holds the separator or a newline (or ``also_key`` does)."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if separator in text or "\n" in text or "\n" in also_key:
        return '"' + text + '"'
    return text


def legacy_line(row: Any, columns: list[str], separator: str,
                first: dict[str, Any]) -> tuple[str, bool]:
    """One row as a legacy line, and whether it was written by the keys of the ``first``
    row (there being no columns): a list's cells all, whatever the columns."""
    if isinstance(row, list):
        return separator.join(legacy_quoted(js_string(cell), separator) for cell in row), False
    if not has_columns(columns):
        return separator.join(
            legacy_quoted(js_string(row[key]), separator, also_key=key)
            for key in first if key in row and not isinstance(row[key], dict | list)
            and row[key] is not None), True
    return separator.join(
        legacy_quoted(cell_text(row[name]) if name in row else "", separator) if name else ""
        for name in columns), False


def legacy_header(columns: list[str], separator: str) -> str:
    return separator.join(f'"{name}"' if separator in name else name for name in columns)


def legacy_names(columns: list[str], *, drop_empty: bool) -> str:
    """msg.columns in legacy mode: names with a comma quoted, joined by commas."""
    names = [f'"{name}"' if "," in name else name for name in columns]
    return ",".join(name for name in names if name or not drop_empty)
