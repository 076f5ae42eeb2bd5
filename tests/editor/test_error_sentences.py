"""The editor's form says what `portless validate` says: editor/static/schema.js
``check`` (with sentences.js) and runtime/schema_errors.py give the same (pointer,
sentence) pairs, over one table of cases and over every field of every shipped node
type with values of each kind. The page's code runs in node, as in the browser."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import Registry
from portless.runtime.flow import FLOW_SCHEMA
from portless.runtime.references import with_article
from portless.runtime.schema_dialect import TEXT_KEYWORDS
from tests.error_sentences import CASES
from tests.runtime.test_schema_errors import sentences

ROOT = Path(__file__).resolve().parents[2]
PROBES: list[Any] = [
    None, True, 0, -1, 1.5, 70000, "", "x", "10%", "wide", "a b", "a/#/b", "cmd/\u0000",
    "valve\n", [], ["a"], {}, {"unknown": 1}, {"ca_file": 3}]
"""Values tried in every field: each JSON type, out of range, malformed text."""

pytestmark = pytest.mark.slow  # each test runs the page's module in Node.js, a subprocess


def page_sentences(cases: list[tuple[dict[str, Any], Any]]) -> list[list[tuple[str, str]]]:
    """schema.js check(schema, value) for each case, run by node."""
    script = (f"import {{ check }} from {json.dumps(str(ROOT / 'editor/static/schema.js'))};"
              "const cases = JSON.parse(await new Promise((done) => { let text = '';"
              " process.stdin.on('data', (c) => { text += c; });"
              " process.stdin.on('end', () => done(text)); }));"
              "console.log(JSON.stringify(cases.map(([s, v]) => "
              "check(s, v).map((e) => [e.pointer, e.message]))));")
    result = subprocess.run(
        ["node", "--experimental-default-type=module", "--input-type=module", "-e", script],
        input=json.dumps(cases), capture_output=True, text=True, timeout=60, check=True)
    return [[(pointer, message) for pointer, message in found]
            for found in json.loads(result.stdout)]


def test_the_table_of_cases_says_the_same_in_the_page_and_the_runtime() -> None:
    found = page_sentences([(schema, value) for _, schema, value, _ in CASES])
    for (name, schema, value, expected), page in zip(CASES, found, strict=True):
        assert sorted(page) == sorted(expected), name
        assert sorted(sentences(schema, value)) == sorted(expected), name


def test_every_shipped_field_says_the_same_in_the_page_and_the_runtime() -> None:
    cases = [(cls.schema, {field: probe})
             for cls in Registry.discover() for field in cls.schema.get("properties", {})
             for probe in PROBES]
    found = page_sentences(cases)
    assert len(found) == len(cases) > 500
    for (schema, config), page in zip(cases, found, strict=True):
        expected = sentences(server_only_removed(schema), config)
        assert sorted(page) == sorted(expected), (schema.get("title"), config)


def server_only_removed(schema: Any) -> Any:
    """The schema without the text keywords only the server can check (a property path,
    a JSONata expression, a regular expression: TEXT_KEYWORDS); the page shows the
    server's answer for those (tests/editor/test_api.py)."""
    if isinstance(schema, dict):
        return {key: server_only_removed(value) for key, value in schema.items()
                if key not in TEXT_KEYWORDS}
    if isinstance(schema, list):
        return [server_only_removed(item) for item in schema]
    return schema


def test_the_page_says_the_id_sentence_of_the_flow_schema() -> None:
    source = (ROOT / "editor/static/sentences.js").read_text()
    sentence = FLOW_SCHEMA["$defs"]["node"]["properties"]["id"]["x-error"]
    assert f"export const ID_SENTENCE = '{sentence}';" in source


def test_the_page_and_the_runtime_choose_the_same_article() -> None:
    names = [cls.type for cls in Registry.discover()] + ["MQTT-bridge", "unit", "debug"]
    script = (f"import {{ withArticle }} from "
              f"{json.dumps(str(ROOT / 'editor/static/sentences.js'))};"
              f"console.log(JSON.stringify({json.dumps(names)}.map(withArticle)));")
    result = subprocess.run(["node", "--input-type=module", "-e", script],
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout) == [with_article(name) for name in names]
    assert with_article("mqtt-broker") == "an mqtt-broker"
