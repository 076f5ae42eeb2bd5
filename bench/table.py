"""The one output format: a Markdown table, columns padded so it reads in a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from .core import Row

HEADER = ("measurement", "result", "target", "pass")


def verdict(passed: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: "-"}[passed]


def render(rows: Sequence[Row]) -> str:
    cells = [HEADER] + [(row.measurement, row.result, row.target, verdict(row.passed))
                        for row in rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(HEADER))]

    def line(values: Sequence[str]) -> str:
        padded = (value.ljust(width) for value, width in zip(values, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(values) for values in cells[1:])]) + "\n"
