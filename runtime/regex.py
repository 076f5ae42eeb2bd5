"""Regular expressions in node configs (the change node's search, a switch rule): a
string field marked ``"x-regex": true`` is compiled at load, so a broken pattern is an
error naming the node and field, not a failure on the first message.

The syntax is Python's ``re``, which takes the patterns Node-RED flows use (classes,
groups, anchors, lazy quantifiers, look-around); JavaScript's named groups,
``(?<name>...)``, are read as Python's ``(?P<name>...)``.
"""

from __future__ import annotations

import re
from functools import lru_cache

REGEX_KEYWORD = "x-regex"
"""Schema keyword (``"x-regex": true``) on a string field holding a regular expression."""

_JS_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<(?![=!])")


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile a pattern as a node's config gives it; raises re.error."""
    return re.compile(_JS_NAMED_GROUP.sub("(?P<", pattern))


def regex_error(pattern: str) -> str | None:
    """Why ``pattern`` is no regular expression (None when it is one)."""
    try:
        compile_regex(pattern)
    except re.error as exc:
        return str(exc)
    return None
