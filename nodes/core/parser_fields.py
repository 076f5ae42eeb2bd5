"""Schema fields the parser nodes (json, yaml, csv) share, so each says the same."""

from __future__ import annotations

from typing import Any


def converted_property() -> dict[str, Any]:
    """The message property a parser converts in place (Node-RED's `property`)."""
    return {"title": "Property", "type": "string", "default": "payload",
            "x-property-path": True,
            "description": "The message property converted, in place."}
