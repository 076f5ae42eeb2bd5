"""Message helpers: ids and the fan-out copy (property paths: test_properties.py)."""

from __future__ import annotations

from portless.runtime import clone_message, make_message, new_msgid


def test_message_ids_are_unique_and_messages_complete() -> None:
    ids = {new_msgid() for _ in range(10_000)}
    assert len(ids) == 10_000
    msg = make_message(3.5, "device/valve-1/flow")
    assert msg["payload"] == 3.5
    assert msg["topic"] == "device/valve-1/flow"
    assert msg["_msgid"]
    assert isinstance(msg["ts"], float)


def test_clone_copies_containers_and_shares_immutables() -> None:
    blob = b"\x00\x01"
    msg = {"payload": {"list": [1, {"x": 2}], "blob": blob, "buf": bytearray(b"ab")}}
    copy = clone_message(msg)
    assert copy == msg
    assert copy["payload"] is not msg["payload"]
    assert copy["payload"]["list"][1] is not msg["payload"]["list"][1]
    assert copy["payload"]["buf"] is not msg["payload"]["buf"]
    assert copy["payload"]["blob"] is blob
