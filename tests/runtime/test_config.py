"""runtime/config.py: defaults of a list's objects, which fill_defaults leaves alone."""

from __future__ import annotations

from portless.runtime.config import fill_defaults, items_with_defaults

FIELD = {"type": "array", "items": {"type": "object", "properties": {
    "host": {"type": "string"}, "port": {"type": ["integer", "null"], "default": None}}}}


def test_items_get_their_defaults_in_copies() -> None:
    config = {"servers": [{"host": "a"}, {"host": "b", "port": 2}]}
    fill_defaults({"properties": {"servers": FIELD}}, config)
    assert config["servers"] == [{"host": "a"}, {"host": "b", "port": 2}]  # left alone
    assert items_with_defaults(FIELD, config["servers"]) == [
        {"host": "a", "port": None}, {"host": "b", "port": 2}]
    assert config["servers"][0] == {"host": "a"}  # not changed in place
