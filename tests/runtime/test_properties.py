"""Property paths: what they parse into, read, write and delete (the table in
property_cases.py, which test_properties_node_red.py also runs through Node-RED)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from portless.runtime import (
    MISSING,
    PropertyPath,
    delete_property,
    get_property,
    property_getter,
    set_property,
)
from tests.runtime.property_cases import ERROR, GETS, PATHS, SETS, GetCase, PathCase, SetCase


def rendered(parts: tuple[Any, ...]) -> list[Any]:
    """Parsed steps as Node-RED writes them: a nested reference as ``["msg", ...]``."""
    out: list[Any] = []
    for part in parts:
        if isinstance(part, PropertyPath):
            inner = rendered(part.parts)
            out.append(["msg", *inner] if part.text.startswith("msg.") else inner)
        else:
            out.append(part)
    return out


@pytest.mark.parametrize("case", PATHS, ids=[repr(case.path) for case in PATHS])
def test_path_parts(case: PathCase) -> None:
    if case.parts == ERROR:
        with pytest.raises(ValueError, match=r"position|empty"):
            PropertyPath(case.path)
    else:
        assert rendered(PropertyPath(case.path).parts) == case.parts


@pytest.mark.parametrize("case", GETS, ids=[f"{case.path} of {case.msg}" for case in GETS])
def test_get(case: GetCase) -> None:
    msg = copy.deepcopy(case.msg)
    assert get_property(msg, case.path) == case.value
    assert property_getter(case.path)(msg) == case.value
    assert msg == case.msg  # reading changes nothing


@pytest.mark.parametrize("case", SETS, ids=[f"{case.path}={case.value} in {case.msg}"
                                            for case in SETS])
def test_set_and_delete(case: SetCase) -> None:
    msg = copy.deepcopy(case.msg)
    if case.value is MISSING:
        assert delete_property(msg, case.path) is case.result
    else:
        assert set_property(msg, case.path, case.value) is case.result
    assert msg == case.after


def test_set_missing_deletes() -> None:
    """Setting MISSING deletes, as Node-RED's set with undefined does."""
    msg = {"payload": {"a": 1, "b": 2}}
    assert PropertyPath("payload.a").set(msg, MISSING) is True
    assert msg == {"payload": {"b": 2}}


def test_reads_python_containers_too() -> None:
    """What a Python node may put in a message: tuples, bytes, dict subclasses."""
    msg = {"payload": (1, 2), "raw": b"\x05\x06", "buf": bytearray(b"ab"),
           "ordered": {"x": {"y": 3}}}
    assert get_property(msg, "payload[1]") == 2
    assert get_property(msg, "raw[1]") == 6
    assert get_property(msg, "raw.length") == 2
    assert get_property(msg, "buf.length") == 2
    assert get_property(msg, "ordered.x.y") == 3
    assert set_property(msg, "payload[0]", 9) is False  # a tuple cannot be written
    assert msg["payload"] == (1, 2)


def test_number_keys_of_a_msgpack_map() -> None:
    """msgpack maps may have int keys: a number step finds one where no text key is."""
    msg: dict[str, Any] = {"payload": {1: {2: "a"}, "3": "text", 3: "number"}}
    assert get_property(msg, "payload[1][2]") == "a"
    assert get_property(msg, "payload[1][2].length") == 1
    assert get_property(msg, "payload[3]") == "text"
    assert get_property(msg, "payload.x[1]") is MISSING
    assert set_property(msg, "payload[1][2]", "b") is True
    assert set_property(msg, "payload[1].c", "d") is True
    assert msg["payload"][1] == {2: "b", "c": "d"}
    assert delete_property(msg, "payload[1]") is True
    assert msg["payload"] == {"3": "text", 3: "number"}


@pytest.mark.parametrize(("path", "key"), [
    ("payload", "payload"), ("msg.payload", "payload"), ("'a b'", "a b"),
    ("payload.x", None), ("a[msg.b]", None)])
def test_key_of_a_one_name_path(path: str, key: str | None) -> None:
    """``key`` lets a hot path write ``msg[key]`` itself."""
    assert PropertyPath(path).key == key


@pytest.mark.parametrize(("path", "msg", "text"), [
    ("lookup[msg.topic]", {"topic": "b"}, 'lookup["b"]'),
    ("lookup[msg.topic].x", {"topic": "a b"}, 'lookup["a b"]["x"]'),
    ("rows[msg.n]", {"n": 2}, "rows[2]"),
    ("lookup[msg.topic]", {}, None),
    ("plain.path", {}, 'plain["path"]'),
])
def test_a_path_resolved_for_a_message_names_its_keys(path: str, msg: dict[str, object],
                                                      text: str | None) -> None:
    # how a flow or global context key such as lookup[msg.topic] is read (typed_value.py)
    assert PropertyPath(path).resolved(msg) == text
