"""The schema that says "a config (or list row) whose fields have these values": the
editor's ``x-show-if`` for a field that applies in one mode, and the ``if`` of a rule
that requires the field in it, built by one function so the two cannot drift."""

from __future__ import annotations

from typing import Any


def fields_are(**choices: Any) -> dict[str, Any]:
    """A JSON Schema that fits an object whose field ``key`` is ``value`` (a tuple: any
    of its items) for each key given; each key must be there."""
    return {"properties": {key: {"enum": list(value)} if isinstance(value, tuple)
                           else {"const": value} for key, value in choices.items()},
            "required": list(choices)}
