"""Node-RED types that are not converted, each with the reason the report gives."""

from __future__ import annotations

OPENS_A_PORT = ("it would open a listening port, and portless opens none (a device "
                "originates its connections: MQTT, outbound requests)")
REFUSED = {
    "http in": OPENS_A_PORT,
    "http response": "it answers an http in, which portless does not offer (it would open "
                     "a port)",
    "tcp in": OPENS_A_PORT + "; as a TCP client it is not offered either",
    "tcp out": "TCP is not offered (a listening socket would open a port)",
    "tcp request": "TCP is not offered",
    "udp in": OPENS_A_PORT,
    "udp out": "UDP is not offered",
    "websocket in": OPENS_A_PORT,
    "websocket out": "WebSocket is not offered (a listener would open a port)",
    "websocket-listener": OPENS_A_PORT,
    "websocket-client": "WebSocket is not offered",
    "exec": "running system commands is not offered (a function node's Python can, as "
            "trusted code)",
    "file": "files are written by portless's output node (target file), which is "
            "configured differently; set one up by hand",
    "file in": "files are read by portless's io-in node (source file), which is "
               "configured differently; set one up by hand",
    "watch": "watching files is not offered",
    "html": "the html parser is not offered",
    "xml": "the xml parser is not offered",
    "global-config": "Node-RED's global environment variables: set them in the "
                     "environment the runtime starts in",
    "unknown": "Node-RED itself did not know this node's type",
}
"""Types that exist in Node-RED's core palette but have no portless equivalent."""


def reason(node_type: str) -> str:
    """Why a type is not converted: a known reason, or that the importer knows no such
    node (a contrib node's, say)."""
    if node_type in REFUSED:
        return REFUSED[node_type]
    return f"no portless equivalent of Node-RED's '{node_type}' is known to the importer"
