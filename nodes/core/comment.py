"""comment: a note in the flow, shown in the editor; nothing at run time (Node-RED's)."""

from __future__ import annotations

from portless.runtime import Node


class Comment(Node):
    """No ports and no behaviour: its text documents the flow around it."""

    type = "comment"
    inputs = 0
    outputs = 0
    category = "common"
    color = "#ffffff"
    icon = "comment"
    schema = {
        "title": "Comment",
        "description": ("A note in the flow: its name is shown on the canvas and its "
                        "text (Markdown) in the editor. It has no ports and does "
                        "nothing at run time."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "text": {"title": "Text", "type": "string", "default": "",
                     "contentMediaType": "text/markdown",
                     "description": "What the note says, in Markdown."},
        },
    }
