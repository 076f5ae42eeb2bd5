"""Node-RED's own RED.util (normalisePropertyExpression, getMessageProperty,
setMessageProperty) run on the table of tests/runtime/property_cases.py, and on random
texts, beside portless's property paths: the same steps, values and messages, except
where a case says Node-RED differs on purpose.

Node-RED 4 is looked for where ``$PORTLESS_NODE_RED`` points (an npm prefix holding
node-red), then where bench/ installs it (``python -m bench --only mqtt`` does).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import MISSING, PropertyPath, delete_property, get_property, set_property
from tests.runtime.property_cases import ERROR, GETS, PATHS, SAME, SETS, SetCase
from tests.runtime.test_properties import rendered

DRIVER = Path(__file__).with_name("properties_node_red.js")
_UTIL = Path("node_modules", "@node-red", "util", "lib", "util.js")
_PREFIXES = [Path(os.environ["PORTLESS_NODE_RED"])] if "PORTLESS_NODE_RED" in os.environ else []
_PREFIXES.append(Path.home() / ".cache" / "portless-bench" / "node-red")


def _node_red_util() -> Path | None:
    return next((prefix / _UTIL for prefix in _PREFIXES if (prefix / _UTIL).is_file()), None)


UTIL = _node_red_util()
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or UTIL is None,
    reason="needs node and Node-RED 4 (npm install --prefix DIR node-red@4, then "
           "PORTLESS_NODE_RED=DIR), looked for in " + ", ".join(map(str, _PREFIXES)))


def node_red(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Node-RED's outcome for each case, in one run of node."""
    done = subprocess.run(["node", str(DRIVER)], input=json.dumps({"util": str(UTIL),
                          "cases": cases}), capture_output=True, text=True, timeout=60,
                          check=True)
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def test_paths_parse_as_in_node_red() -> None:
    said = node_red([{"op": "parse", "path": case.path} for case in PATHS])
    for case, outcome in zip(PATHS, said, strict=True):
        expected = case.parts if case.node_red is SAME else case.node_red
        assert outcome.get("parts", ERROR) == expected, case.path


def test_random_texts_parse_as_in_node_red() -> None:
    """Random texts, half of them paths with one character changed: the same verdict and
    the same steps as Node-RED for every one."""
    chance = random.Random(9)
    texts = sorted({_random_text(chance) for _ in range(8000)})
    said = node_red([{"op": "parse", "path": text} for text in texts])
    accepted = 0
    for text, outcome in zip(texts, said, strict=True):
        try:
            ours: Any = rendered(PropertyPath(text).parts)
        except ValueError:
            ours = ERROR
        assert ours == outcome.get("parts", ERROR), text
        accepted += ours != ERROR
    assert len(texts) > 5000
    assert accepted > len(texts) // 4, accepted  # paths compared, not only errors


_CHARACTERS = "ab0.[]'\" $_-é"
_STEPS = ["a", "b0", "0", "12", "$x", "_y", "é", ".a", ".0", ".b1", "[0]", "[12]", "['a']",
          '["b.c"]', "['x]y']", "[msg.a]", "[msg[msg.b]]", "[msg['c']]", "a-b"]


def _random_text(chance: random.Random) -> str:
    if chance.random() < 0.5:
        return "".join(chance.choices(_CHARACTERS + "msg", k=chance.randint(1, 8)))
    text = chance.choice(["a", "msg.a", "'q'", "payload"]) + "".join(
        chance.choices(_STEPS, k=chance.randint(0, 4)))
    where = chance.randrange(len(text) + 1)
    change = chance.choice(["keep", "insert", "delete"])
    if change == "insert":
        return text[:where] + chance.choice(_CHARACTERS) + text[where:]
    if change == "delete" and len(text) > 1:
        return text[:where] + text[where + 1:]
    return text


def test_gets_read_as_in_node_red() -> None:
    said = node_red([{"op": "get", "path": case.path, "msg": case.msg} for case in GETS])
    for case, outcome in zip(GETS, said, strict=True):
        theirs = ("a function" if "function" in outcome else
                  MISSING if "missing" in outcome or "throws" in outcome else outcome["value"])
        assert theirs == (case.value if case.node_red is SAME else case.node_red), case
        assert get_property(json.loads(json.dumps(case.msg)), case.path) == case.value


def test_sets_and_deletes_write_as_in_node_red() -> None:
    said = node_red([_set_case(case) for case in SETS])
    for case, outcome in zip(SETS, said, strict=True):
        result = outcome["result"]
        theirs = (False if isinstance(result, dict) else result, outcome["after"])
        expected = (case.result, case.after)
        if case.node_red is not SAME:
            expected = (case.node_red[0], case.node_red[1] or case.after)
        assert theirs == expected, case
        msg = json.loads(json.dumps(case.msg))
        if case.value is MISSING:
            assert delete_property(msg, case.path) is case.result
        else:
            assert set_property(msg, case.path, case.value) is case.result
        assert msg == case.after


def _set_case(case: SetCase) -> dict[str, Any]:
    if case.value is MISSING:
        return {"op": "delete", "path": case.path, "msg": case.msg}
    return {"op": "set", "path": case.path, "msg": case.msg, "value": case.value}
