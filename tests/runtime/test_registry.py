"""Discovery of node types: built-ins, installed plugins (entry points), --nodes-dir;
clashes and broken plugins are reported clearly and never hide the other types."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from portless.runtime import Node, Registry, RegistryError
from tests.nodetypes import Answers, Rules, Split

BUILT_INS = {"io-in", "exception-filter", "output", "debug"}


def make_plugin_dist(site: Path, dist: str, entry: str) -> None:
    """An installed distribution as importlib.metadata finds it: a dist-info folder."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[portless.nodes]\n{entry}\n")


def test_built_ins_are_found_through_entry_points() -> None:
    registry = Registry.discover()
    assert {cls.type for cls in registry} >= BUILT_INS
    assert {registry.source(name) for name in BUILT_INS} == {"built-in"}


def test_nodes_dir_types_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "gain.py").write_text(
        "from portless.runtime import Node\n"
        "class Gain(Node):\n"
        "    type = 'gain'\n"
        "    def on_input(self, msg):\n"
        "        msg['payload'] *= 10\n"
        "        self.send(msg)\n")
    registry = Registry.discover([tmp_path])
    assert registry.source("gain") == f"nodes dir file {tmp_path / 'gain.py'}"


def test_type_clash_names_both_sources(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(
        "from portless.runtime import Node\nclass Mine(Node):\n    type = 'debug'\n")
    with pytest.raises(RegistryError) as caught:
        Registry.discover([tmp_path])
    assert str(caught.value) == (f"node type 'debug' is defined twice: by built-in and by "
                                 f"nodes dir file {tmp_path / 'mine.py'}")


def test_plugin_that_fails_to_import_is_reported_and_the_rest_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_plugin_dist(tmp_path, "portless-broken", "thermo = portless_broken_missing:Thermo")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry.discover()
    assert {cls.type for cls in registry} >= BUILT_INS
    (line,) = registry.load_errors
    assert line.startswith("plugin portless-broken (entry point thermo = "
                           "portless_broken_missing:Thermo) failed to load: "
                           "ModuleNotFoundError")


def test_plugin_entry_point_is_registered_with_its_distribution(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "portless_thermo.py").write_text(
        "from portless.runtime import Node\nclass Thermo(Node):\n    type = 'thermo'\n")
    make_plugin_dist(tmp_path, "portless-thermo", "thermo = portless_thermo:Thermo")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = Registry.discover()
        assert registry.source("thermo") == "plugin portless-thermo (portless_thermo:Thermo)"
    finally:
        sys.modules.pop("portless_thermo", None)


def test_broken_nodes_dir_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import nothing_here\n")
    registry = Registry.discover([tmp_path])
    assert len(registry.load_errors) == 1
    assert "bad.py failed to load: ModuleNotFoundError" in registry.load_errors[0]


def test_nodes_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not a directory"):
        Registry.discover([tmp_path / "missing"])


@pytest.mark.parametrize(("attrs", "problem"), [
    ({"type": ""}, "has no 'type' name"),
    ({"type": "x", "inputs": 2}, "inputs must be 0 or 1"),
    ({"type": "x", "outputs": -1}, "outputs must be 0 to 1,000"),
    ({"type": "x", "outputs": 1001}, "outputs must be 0 to 1,000"),
    ({"type": "x", "outputs_rule": 3}, "outputs_rule must be text"),
    ({"type": "x", "schema": {"type": "nonsense"}}, "config schema is invalid"),
])
def test_malformed_node_classes_are_refused(attrs: dict[str, object], problem: str) -> None:
    cls = type("Bad", (Node,), attrs)
    with pytest.raises(RegistryError, match=problem):
        Registry([cls])


def test_closest_suggests_a_known_type() -> None:
    assert Registry.discover().closest("debgu") == "debug"


def test_a_schema_is_checked_once_per_class_not_once_per_registry(
        monkeypatch: pytest.MonkeyPatch) -> None:
    Registry.discover()  # every installed class checked (at most) once, here

    def checked_again(schema: object) -> None:
        raise AssertionError("a class's schema was checked against the meta-schema again")
    monkeypatch.setattr(Draft202012Validator, "check_schema", checked_again)
    assert {cls.type for cls in Registry.discover()} >= BUILT_INS


def test_a_copy_is_independent_of_its_original() -> None:
    original = Registry.discover()
    twin = original.copy()
    twin.add(type("Extra", (Node,), {"type": "test-extra"}), "test")
    assert "test-extra" in twin
    assert "test-extra" not in original
    assert twin.source("debug") == "built-in"
    assert twin.validator("debug") is original.validator("debug")


BAD_SCHEMA_PLUGIN = (
    "from portless.runtime import Node\n"
    "class Thermo(Node):\n"
    "    type = 'thermo'\n"
    "    schema = {'type': 'object', 'properties': {'unit': {'type': 'celsius'}}}\n")


def test_plugin_with_an_invalid_schema_is_reported_and_the_rest_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "portless_bad_thermo.py").write_text(BAD_SCHEMA_PLUGIN)
    make_plugin_dist(tmp_path, "portless-bad-thermo", "thermo = portless_bad_thermo:Thermo")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = Registry.discover()
    finally:
        sys.modules.pop("portless_bad_thermo", None)
    assert {cls.type for cls in registry} >= BUILT_INS
    assert "thermo" not in registry
    (line,) = registry.load_errors
    assert line.startswith("plugin portless-bad-thermo (portless_bad_thermo:Thermo): node "
                           "type 'thermo': config schema is invalid: "
                           "/properties/unit/type: 'celsius' is not valid")
    assert registry.load_error("thermo") == line


def test_nodes_dir_class_with_an_invalid_schema_is_reported(tmp_path: Path) -> None:
    (tmp_path / "thermo.py").write_text(BAD_SCHEMA_PLUGIN)
    (tmp_path / "gain.py").write_text(
        "from portless.runtime import Node\nclass Gain(Node):\n    type = 'gain'\n")
    registry = Registry.discover([tmp_path])
    assert "gain" in registry
    (line,) = registry.load_errors
    assert line.startswith(f"nodes dir file {tmp_path / 'thermo.py'}: node type 'thermo': "
                           f"config schema is invalid")


class Scale(Node):
    type = "scale"


class Telegram(Node):
    type = "telegram"


@pytest.mark.parametrize(("typed", "suggested"), [
    ("debgu", "debug"), ("exception-filtr", "exception-filter"), ("mqtt_in", "mqtt-in"),
    ("telegram", None), ("modbus-read", None), ("http-in", None)])
def test_closest_suggests_only_a_close_name(typed: str, suggested: str | None) -> None:
    registry = Registry.discover()
    if "scale" not in registry:  # the example plugin, when it is installed
        registry.add(Scale, "test")
    assert registry.closest(typed) == suggested
    registry.add(Telegram, "test")
    assert registry.closest("telegarm") == "telegram"


def test_every_built_in_schema_passes_the_meta_schema() -> None:
    """Built-ins skip the meta-schema check at start (it costs every command tens of
    milliseconds); this is where they get it."""
    built_ins = [cls for cls in Registry.discover() if cls.__module__.startswith("portless.")]
    assert {cls.type for cls in built_ins} >= BUILT_INS
    for cls in built_ins:
        Draft202012Validator.check_schema(cls.schema)


# --- outputs that follow the config --------------------------------------------------
def test_a_type_whose_outputs_follow_its_config_says_so_with_the_default_count() -> None:
    registry = Registry([Rules, Split])
    rules = registry.describe(Rules)
    assert (rules["outputs"], rules["outputs_from_config"], rules["outputs_rule"]) == \
        (2, True, "one per rule")  # the default config has two rules
    split = registry.describe(Split)
    assert (split["outputs"], split["outputs_from_config"]) == (2, False)


@pytest.mark.parametrize("answer", ["raise", "two", -1, 10 ** 6])
def test_a_misbehaving_output_count_leaves_the_description_with_the_class_count(
        answer: object) -> None:
    broken = type("Broken", (Answers,), {
        "type": "test-broken-answers",
        "schema": {"type": "object", "properties": {"answer": {"default": answer}}}})
    described = Registry([broken]).describe(broken)
    assert (described["outputs"], described["outputs_from_config"]) == (1, True)
