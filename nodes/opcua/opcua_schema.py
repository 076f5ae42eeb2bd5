"""Schema pieces the OPC UA nodes share: node ids as text, and the connection field."""

from __future__ import annotations

from typing import Any

NODE_ID_PATTERN = (r"^(ns=[0-9]{1,5};)?(i=[0-9]{1,10}|s=[^\u0000-\u001f\u007f-\u009f]+"
                   r"|g=[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
                   r"-[0-9a-fA-F]{12}|b=[A-Za-z0-9+/]+={0,2})$")
"""An OPC UA node id in its text form (OPC 10000-6 5.3.1.10): an optional namespace
index, then a numeric, string, GUID or opaque (base64) identifier."""

NODE_ID_ERROR = ("must be an OPC UA node id such as ns=2;s=Valve1.Flow or i=2258: "
                 "optional ns=<index>; then i=<number>, s=<text>, g=<GUID> or "
                 "b=<base64>, without control characters")


def node_id_schema(title: str, description: str, *, allow_empty: bool = False
                   ) -> dict[str, Any]:
    """A field holding one node id (or, with ``allow_empty``, "" for msg.topic)."""
    pattern = NODE_ID_PATTERN if not allow_empty else f"^$|{NODE_ID_PATTERN}"
    schema: dict[str, Any] = {"title": title, "type": "string", "maxLength": 4096,
                              "pattern": pattern, "x-error": NODE_ID_ERROR,
                              "description": description}
    if allow_empty:
        schema["default"] = ""
    return schema


CONNECTION_FIELD: dict[str, Any] = {
    "title": "Connection", "type": "string", "x-ref": "opcua-connection",
    "description": "The opcua-connection (one per server) to use."}
