"""http-request: Node-RED's 21-httprequest_spec.js as table rows (cases.py), each run
against the real server of tests/http_server.py on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import MISSING, get_property
from portless.testing import arun_node
from tests.http_server import Server, shown
from tests.nodes.http.cases import CASES, Absent, Case, Starts

TYPE = "http-request"


def filled(value: Any, server: Server) -> Any:
    """``value`` with {s}, {ip}, {bare}, {host} and {iphost} put in its texts."""
    if isinstance(value, str):
        host, iphost = f"localhost:{server.port}", f"127.0.0.1:{server.port}"
        text = (value.replace("{s}", f"http://{host}").replace("{ip}", f"http://{iphost}")
                .replace("{bare}", host).replace("{iphost}", iphost)
                .replace("{host}", host))
        return Starts(text) if isinstance(value, Starts) else text
    if isinstance(value, dict):
        return {filled(key, server): filled(item, server) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, server) for item in value]
    return value


def holds(msg: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    """What in ``expect`` the message does not hold (empty: all of it)."""
    wrong = []
    for path, wanted in expect.items():
        parts = path.split(".")
        value: Any = msg
        for part in parts:  # header names have dashes: plain steps, not a property path
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = MISSING
                break
        if isinstance(wanted, Absent):
            ok = value is MISSING
        elif isinstance(wanted, Starts):
            ok = isinstance(value, str) and value.startswith(wanted)
        else:
            ok = value == wanted
        if not ok:
            wrong.append(f"{path}: {value!r} is not {wanted!r}")
    return wrong


async def run_case(case: Case, server: Server) -> None:
    config, msg = filled(case.config, server), filled(case.msg, server)
    run = await arun_node(TYPE, config, [msg], timeout=10)
    if case.error:
        assert run.outputs == [[]], case.id
        assert any(text.startswith(case.error) for text in run.errors), run.errors
        return
    assert not run.errors, run.errors
    [sent] = run.outputs[0]
    assert not holds(sent, filled(case.expect, server)), shown(sent)
    if case.warning:
        assert any(text.startswith(case.warning) for text in run.warnings), run.warnings
    else:
        assert not run.warnings, run.warnings
    for where, cookies in filled(case.cookies, server).items():
        assert server.cookies.get(where) == cookies, (where, server.cookies)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_node_red_case(case: Case, server: Server) -> None:
    await run_case(case, server)


def test_get_property_is_not_used_for_header_names() -> None:
    """holds() walks header names with dashes as plain keys (a property path would too,
    but this keeps the table readable); a sanity check of the helper itself."""
    assert get_property({"a": {"b-c": 1}}, "a['b-c']") == 1
    assert holds({"a": {"b-c": 1}}, {"a.b-c": 1}) == []
    assert holds({"a": {}}, {"a.b-c": 1}) == [f"a.b-c: {MISSING!r} is not 1"]
