"""csv: a payload between CSV text and objects (or lists), both ways, as Node-RED 4's csv
node does in its RFC 4180 mode (csv_text) or its legacy mode (csv_legacy), with message
sequences (msg.parts) as it sets them."""

from __future__ import annotations

from functools import partial
from typing import Any

from portless.nodes.core.csv_legacy import (
    LegacyReader,
    has_columns,
    legacy_columns,
    legacy_header,
    legacy_line,
    legacy_names,
)
from portless.nodes.core.csv_text import (
    CsvError,
    as_objects,
    cell_text,
    header_text,
    parse_rows,
    quote_cell,
)
from portless.runtime import Message, Node, clone_message

MAX_ROWS = 100_000
"""Rows one message may hold, or a sequence gather into one array."""


class Csv(Node):
    type = "csv"
    category = "parser"
    color = "#DEBD5C"
    icon = "parser-csv"
    schema = {
        "title": "CSV",
        "description": (
            "Converts `msg.payload` between CSV text and objects, both ways, as Node-RED "
            "4's csv node does. A text becomes one message per row (each a sequence "
            "part: `msg.parts` with `id`, `index`, `count`) or one message holding all "
            "rows, each row an object named by `columns` (or by the first row, or "
            "`col1`, `col2`... by position); `msg.columns` lists the names. An object, a "
            "list of objects or a list of lists becomes CSV text, a header row first as "
            "`header_out` says. A message that is part of a sequence (one line each, as "
            "split makes them) is read with the others: the header row and `skip` count "
            "over the whole sequence, and `rows_as: array` sends the rows gathered when "
            "the last part arrives. `msg.reset` sends the header again. A message "
            "without payload passes unchanged; a number or boolean payload is an error "
            "with the message (in legacy mode a warning).\n\n"
            "`mode: rfc` reads and writes RFC 4180, Node-RED 4's default: data rows are "
            "read forgivingly (a stray quote is kept as text), a header row and "
            "`columns` strictly. `mode: legacy` is Node-RED's mode for flows saved "
            "before 4.0: column names trimmed and unquoted, a cell ending at a separator "
            "outside quotes, an odd number of quotes warned about, a list written whole "
            "whatever the columns, the header row not quoted.\n\n"
            "Differences from Node-RED, on purpose: in RFC mode a cell like `1e999` or "
            "`Infinity` stays text (Node-RED makes it Infinity), and so does a cell of "
            "spaces (Node-RED makes it 0); UTF-8 bytes are read as "
            f"text; more than {MAX_ROWS:,} rows in one message (or gathered from a "
            "sequence) is an error; `columns` that do not parse stop the node from "
            "starting (Node-RED ignores every message); the line end's default is CRLF "
            "in both modes (Node-RED's legacy mode: LF; the importer keeps a flow's "
            "own). In legacy mode: a text that starts with a separator is read as an "
            "empty first cell (Node-RED fails on it); an object written without columns "
            "has a value with a newline quoted (Node-RED looks for the newline in the "
            "key, and writes a broken line); a header over a list of plain values names "
            "its columns 0, 1, 2... (Node-RED: the characters of the first value)."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {
                "title": "Parser", "enum": ["rfc", "legacy"], "default": "rfc",
                "description": "`rfc`: RFC 4180, as Node-RED 4 reads and writes CSV (its "
                               "default for new nodes); `legacy`: as Node-RED did before "
                               "4.0 (flows without `spec: rfc`), for imported flows that "
                               "rely on it."},
            "columns": {
                "title": "Columns", "type": "string", "default": "",
                "description": "Column names, separated by commas (quoted where a name holds "
                               "a comma); an empty name leaves its column out. Empty: "
                               "from the first row, or col1, col2..."},
            "separator": {
                "title": "Separator", "type": "string", "minLength": 1, "maxLength": 1,
                "default": ",", "x-error": "must be one character, such as , or ; or a tab",
                "description": "The character between cells: `,`, `;`, a tab, a space or "
                               "any other."},
            "columns_from_first_row": {
                "title": "First row holds the column names", "type": "boolean",
                "default": False, "description": "Reading: the first row (after `skip`) "
                                                 "names the columns and is no data."},
            "skip": {"title": "Skip lines", "type": "integer", "minimum": 0,
                     "maximum": 1_000_000, "default": 0,
                     "description": "Reading: lines left out at the start."},
            "parse_numbers": {"title": "Parse numbers", "type": "boolean", "default": True,
                              "description": "Reading: a cell that is a number becomes a "
                                             "number (not one starting with + or 0, like a "
                                             "phone number)."},
            "include_empty_strings": {
                "title": "Include empty texts", "type": "boolean", "default": False,
                "description": "Reading: a cell quoted empty (`\"\"`) is kept as \"\"."},
            "include_null_values": {
                "title": "Include null values", "type": "boolean", "default": False,
                "description": "Reading: a cell with nothing in it is kept as null."},
            "rows_as": {
                "title": "Output rows as", "enum": ["messages", "array"],
                "default": "messages",
                "description": "Reading: `messages`, one message per row (a sequence); "
                               "`array`, one message with a list of all rows."},
            "header_out": {
                "title": "Header row", "enum": ["none", "once", "all"], "default": "none",
                "description": "Writing: `none`; `once`, in the first text only (until a "
                               "message has `reset`); `all`, in every text."},
            "line_end": {"title": "Line end", "enum": ["\r\n", "\n", "\r"], "default": "\r\n",
                         "description": "Writing: what ends each row."},
        },
    }

    async def start(self) -> None:
        config = self.config
        self._sep: str = config["separator"]
        self._skip: int = config["skip"]
        self._first_row: bool = config["columns_from_first_row"]
        self._array = config["rows_as"] == "array"
        self._line_end: str = config["line_end"]
        self._legacy = config["mode"] == "legacy"
        columns = [] if self._legacy else self._template(config["columns"])
        if columns is None:
            raise ValueError("columns do not parse: they must be one row of names "
                             "separated by commas")
        self._columns: list[str | None] = columns
        self._header_sent = False
        self._gathered: list[dict[str, Any]] = []
        self._legacy_columns = legacy_columns(config["columns"])
        self._legacy_reader = LegacyReader(
            list(self._legacy_columns), separator=self._sep,
            numbers=config["parse_numbers"], include_nulls=config["include_null_values"],
            include_empty=config["include_empty_strings"])
        self._warned = False
        self._written_columns: list[str] = []

    def _template(self, text: str) -> list[str | None] | None:
        """Column names from a text (one strict row, comma-separated); [] for none."""
        try:
            rows = parse_rows(text, ",", strict=True).rows
        except CsvError:
            return None
        if len(rows) > 1:
            return None
        names = rows[0] if rows else []
        return [] if names in ([], [None]) else names

    def on_input(self, msg: Message) -> None:
        if "reset" in msg:
            self._header_sent = False
        if "payload" not in msg:
            if "reset" not in msg:
                self.send(msg)
            return
        payload = msg["payload"]
        if isinstance(payload, bytes | bytearray):
            try:
                payload = bytes(payload).decode("utf-8")
            except UnicodeDecodeError as exc:
                self.error(f"msg.payload is not UTF-8 text: {exc.reason} at byte "
                           f"{exc.start}", msg)
                return
        if isinstance(payload, str):
            self._read(payload, msg)
        elif isinstance(payload, dict | list):
            self._write(payload, msg)
        else:  # legacy mode only warns, as Node-RED's did
            (self.warn if self._legacy else partial(self.error, msg=msg))(
                "msg.payload must be a CSV text, an object or a list, not "
                f"{type(payload).__name__}")

    # --- reading -----------------------------------------------------------------------
    def _read(self, text: str, msg: Message) -> None:
        parts = msg.get("parts") if isinstance(msg.get("parts"), dict) else None
        line, first, last = 0, True, False
        if parts is not None:
            line = _whole(parts.get("index"))
            first = line <= self._skip
            count = parts.get("count")
            last = isinstance(count, int) and line + 1 >= count
        read = self._read_legacy if self._legacy else self._read_rfc
        result = read(text, msg, parts, line, first)
        if result is None:
            return
        data, names, breaks = result
        if len(data) > MAX_ROWS:
            self.error(f"msg.payload holds more than {MAX_ROWS:,} rows", msg)
            return
        if self._array:
            self._send_array(msg, data, names, parts, breaks)
        else:
            self._send_rows(msg, data, names, parts, last)

    def _read_rfc(self, text: str, msg: Message, parts: dict[str, Any] | None, line: int,
                  first: bool) -> tuple[list[dict[str, Any]], str, int] | None:
        cursor = 0
        if self._skip > 0 and line < self._skip:
            while cursor < len(text) and first and line < self._skip:
                if text[cursor] in "\r\n":
                    line += 1
                cursor += 1
            if cursor >= len(text):
                return None
        breaks = sum(text.count(char, cursor) for char in "\r\n")
        if parts is not None and self._array and breaks > 1:
            first = True
        columns = self._columns
        try:
            if first and self._first_row:
                header = parse_rows(text, self._sep, cursor=cursor, strict=True,
                                    first_row_only=True)
                columns = self._columns = header.rows[0] if header.rows else []
                cursor = header.cursor
            rows = parse_rows(text, self._sep, cursor=cursor).rows
        except CsvError as exc:
            self.status("red", "bad header row")
            self.error(f"The header row is not CSV: {exc}", msg)
            return None
        if not columns:
            columns = [f"col{number + 1}" for number in range(len(rows[0]))] if rows else []
        data = as_objects(rows, columns, include_nulls=self.config["include_null_values"],
                          include_empty=self.config["include_empty_strings"],
                          numbers=self.config["parse_numbers"])
        return data, header_text(columns), breaks

    def _read_legacy(self, text: str, msg: Message, parts: dict[str, Any] | None,
                     line: int, first: bool) -> tuple[list[dict[str, Any]], str, int]:
        breaks = text.count("\r") + text.count("\n")
        if parts is not None and self._array and breaks > 1:
            first = True
        data = self._legacy_reader.read(text, first=first, line=line, skip=self._skip,
                                        header_in=self._first_row)
        if self._legacy_reader.unbalanced:
            self.warn("Odd number of quote characters in msg.payload")
        return data, legacy_names(self._legacy_reader.columns, drop_empty=True), breaks

    def _send_array(self, msg: Message, data: list[dict[str, Any]], names: str,
                    parts: dict[str, Any] | None, breaks: int) -> None:
        if parts is None or breaks > 1:
            msg["columns"], msg["payload"] = names, data
            self.send(msg)
            return
        self._gathered.extend(data)
        if len(self._gathered) > MAX_ROWS:
            self._gathered = []
            self.error(f"the sequence gathers more than {MAX_ROWS:,} rows: dropped", msg)
            return
        if _whole(parts.get("index")) + 1 == parts.get("count"):
            msg["payload"], msg["columns"] = self._gathered, names
            del msg["parts"]
            self._gathered = []
            self.send(msg)

    def _send_rows(self, msg: Message, data: list[dict[str, Any]], names: str,
                   parts: dict[str, Any] | None, last: bool) -> None:
        shift = self._skip + (1 if self._first_row else 0)
        for index, row in enumerate(data):
            out = clone_message(msg)
            out["columns"], out["payload"] = names, row
            if parts is None:
                out["parts"] = {"id": msg["_msgid"], "index": index, "count": len(data)}
            else:
                out["parts"]["index"] = _whole(out["parts"].get("index")) - shift
                if isinstance(out["parts"].get("count"), int):
                    out["parts"]["count"] -= shift
            if last:
                out["complete"] = True
            self.send(out)
        if parts is not None and last and not data:
            self.send({"complete": True})

    # --- writing -----------------------------------------------------------------------
    def _write(self, value: dict[str, Any] | list[Any], msg: Message) -> None:
        if self._legacy:
            self._write_legacy(value, msg)
            return
        rows: list[Any] = [value] if isinstance(value, dict) else value
        lists = bool(rows) and isinstance(rows[0], list)
        if rows and not isinstance(rows[0], dict | list):  # one row of plain values
            rows, lists = [rows], True
        parts = msg.get("parts")
        later_part = isinstance(parts, dict) and _whole(parts.get("index")) > 0
        if not (self._configured_columns_empty() and later_part):
            self._columns = self._template(self.config["columns"]) or []
        lines: list[str] = []
        header_out = self.config["header_out"]
        if header_out != "none" and not self._header_sent:
            if not self._columns:
                self._columns = (self._template(str(msg.get("columns") or "")) or []
                                 if "columns" in msg else _keys(rows))
            lines.append(self._sep.join(quote_cell(name or "", self._sep)
                                        for name in self._columns))
            self._header_sent = header_out == "once"
        for row in rows:
            lines.append(self._list_line(row) if lists else self._object_line(row, rows, msg))
        msg["payload"] = self._line_end.join(lines) + self._line_end
        msg["columns"] = header_text(self._columns)
        self.send(msg)

    def _write_legacy(self, value: dict[str, Any] | list[Any], msg: Message) -> None:
        rows: list[Any] = [value] if isinstance(value, dict) else list(value)
        if rows and not isinstance(rows[0], dict | list):  # one row of plain values
            rows = [rows]
        parts = msg.get("parts")
        later_part = isinstance(parts, dict) and _whole(parts.get("index")) > 0
        if not (not has_columns(self._legacy_columns) and later_part):
            self._written_columns = legacy_columns(self.config["columns"])
        columns = self._written_columns
        lines: list[str] = []
        header_out = self.config["header_out"]
        if header_out != "none" and not self._header_sent:
            if not has_columns(columns):
                columns = (legacy_columns(str(msg.get("columns") or "")) if "columns" in msg
                           else [str(key) for key in _keys(rows)])
            lines.append(legacy_header(columns, self._sep))
            self._header_sent = header_out == "once"
        for row in rows:
            if isinstance(row, dict) and not has_columns(columns) and "columns" in msg:
                columns = legacy_columns(str(msg["columns"] or ""))
            first = rows[0] if isinstance(rows[0], dict) else {}
            line, by_keys = legacy_line(row if isinstance(row, dict | list) else {}, columns,
                                        self._sep, first)
            if by_keys and not self._warned:
                self._warned = True
                self.warn("No columns template specified for object -> CSV: the keys of "
                          "the first object are used")
            lines.append(line)
        self._written_columns = columns
        msg["payload"] = self._line_end.join(lines) + self._line_end
        msg["columns"] = legacy_names(columns, drop_empty=False)
        self.send(msg)

    def _configured_columns_empty(self) -> bool:
        return not self._template(self.config["columns"])

    def _list_line(self, row: Any) -> str:
        cells = row if isinstance(row, list) else [row]
        if not self._columns:
            return self._sep.join(quote_cell(cell_text(cell), self._sep) for cell in cells)
        return self._sep.join(
            quote_cell(cell_text(cells[index]) if index < len(cells) else "", self._sep)
            if name else "" for index, name in enumerate(self._columns))

    def _object_line(self, row: Any, rows: list[Any], msg: Message) -> str:
        if not self._columns and "columns" in msg:
            self._columns = self._template(str(msg["columns"] or "")) or []
        if not isinstance(row, dict):
            row = {}
        if not self._columns:  # the first row's keys, then the columns of what follows
            if not self._warned:
                self._warned = True
                self.warn("No columns template specified for object -> CSV: the keys of "
                          "the first object are used")
            self._columns = list(row)
            return self._sep.join(
                quote_cell(cell_text(value), self._sep) for value in row.values()
                if not isinstance(value, dict | list) and value is not None)
        return self._sep.join(
            quote_cell(cell_text(row[name]) if name in row else "", self._sep) if name else ""
            for name in self._columns)


def _keys(rows: list[Any]) -> list[str | None]:
    first = rows[0] if rows else {}
    if isinstance(first, dict):
        return list(first)
    return [str(index) for index in range(len(first))] if isinstance(first, list) else []


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
