"""Flow files: load and check them, resolve ``${ENV}``, write them in canonical form.

Checking collects every error at once (a linter, not a first-failure exception), each
with the file, the node id and the JSON pointer of the field.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import ValidationError

from . import safe_json
from .atomic import atomic_write
from .canonical import canonical_text
from .check_memo import CheckMemo, CheckMemos
from .compiled_schema import CompiledSchema
from .config import config_references, copy_json, fill_defaults, substitute_env
from .errors import FlowError, FlowInvalid
from .node import Node, OutputCountError, follows_config, outputs_of
from .references import reference_cycle_errors, reference_problem
from .registry import Registry
from .schema_errors import config_problems, describe, error_order, pointer_of
from .subflow import SubflowInstance, definition_of, expand, readable_entry
from .subflow_wiring import running_nodes

FORMAT_VERSION = 1
FLOW_SCHEMA: dict[str, Any] = json.loads(
    files("portless.runtime").joinpath("flow.schema.json").read_text(encoding="utf-8"))
_flow_validator = CompiledSchema(FLOW_SCHEMA)
MAX_FLOW_BYTES = 16 * 1024 * 1024
"""The largest flow file read (16 MiB; a 5,000-node flow is about 1.2 MB)."""


@dataclass(frozen=True)
class NodeSpec:
    """One node as the engine builds it: config resolved, defaults filled in."""

    id: str
    type: str
    name: str
    config: dict[str, Any]
    wires: tuple[tuple[str, ...], ...]
    refs: tuple[str, ...]
    """Ids of the shared connections this node's config refers to."""
    tab: str = ""
    """The flow file (tab) the node is written in: the scope of "the same tab"."""
    instance: str = ""
    """The subflow instance this node was expanded from ("" if written in the flow):
    ``pump-1``, or ``pump-1/inner`` for one nested in it."""
    revision: str = ""
    """Of its instance: changes with the subflow's definition or the instance's
    parameters, so a deploy restarts the whole instance (subflow.SubflowInstance)."""


@dataclass(frozen=True)
class Flow:
    """A checked flow: the document as written (for saving) and the specs to run."""

    file: str
    document: dict[str, Any]
    nodes: tuple[NodeSpec, ...]
    instances: tuple[SubflowInstance, ...] = ()
    """The subflow instances expanded into ``nodes`` (nested ones included)."""
    context_stores: Mapping[str, str] = field(default_factory=dict)
    """The context store each tab chose (its ``"context": {"store": ...}``), by file;
    a tab not named here keeps its context in memory."""

    def spec(self, node_id: str) -> NodeSpec:
        return next(spec for spec in self.nodes if spec.id == node_id)


# --- reading ---------------------------------------------------------------------
def parse_flow(text: str, file: str) -> dict[str, Any]:
    """Parse flow JSON; a syntax error names the line and column, and a value that
    could wedge the runtime (NaN, a duplicate key, ...; see safe_json) names its node
    and field."""
    try:
        document = safe_json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlowInvalid([FlowError(
            file, f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}")]
        ) from None
    except safe_json.JsonProblems as exc:
        raise placed_problems(exc, file) from None
    if not isinstance(document, dict):
        raise FlowInvalid([FlowError(
            file, f"a flow file is a JSON object with 'version' and 'nodes', "
                  f"not a JSON {type(document).__name__}")])
    return document


def placed_problems(problems: safe_json.JsonProblems, file: str) -> FlowInvalid:
    """The values a parse refused, as errors naming the node and field of each."""
    return FlowInvalid([_placed(file, problems.document, list(path), sentence)
                        for path, sentence in problems.found])


def read_flow(path: str | Path) -> dict[str, Any]:
    """Read and parse a flow file: a regular file of at most MAX_FLOW_BYTES of UTF-8.

    Opened without blocking and checked before reading, so a FIFO or /dev/zero given
    as the flow is an error, not a hang or gigabytes of memory."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            kind = os.fstat(descriptor).st_mode
            if not stat.S_ISREG(kind):
                raise FlowInvalid([FlowError(str(path), f"not a regular file "
                                             f"({_file_kind(kind)}); give a flow file")])
            with open(descriptor, "rb", closefd=False) as stream:
                data = stream.read(MAX_FLOW_BYTES + 1)
        finally:
            os.close(descriptor)
        if len(data) > MAX_FLOW_BYTES:
            raise FlowInvalid([FlowError(str(path), f"larger than {MAX_FLOW_BYTES} bytes, "
                                         f"the most a flow file may hold")])
        text = data.decode("utf-8")
    except OSError as exc:  # the reason in words; the path is said once, first
        raise FlowInvalid([FlowError(str(path), f"cannot read the file: "
                                                f"{exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FlowInvalid([FlowError(str(path), f"line {line}: not UTF-8 text (byte "
                                                f"0x{data[exc.start]:02x} at offset "
                                                f"{exc.start}); save the file as UTF-8")]
                          ) from None
    return parse_flow(text, str(path))


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a plain file"


def load_flow(path: str | Path, registry: Registry, env: Mapping[str, str] | None = None,
              resolve_env: bool = True) -> Flow:
    """Read and check a flow file; raises FlowInvalid with every error found."""
    return check_flow(read_flow(path), registry, str(path), env, resolve_env)


def check_shape(document: dict[str, Any], file: str) -> None:
    """Check only the file's own shape (the flow schema), not the node configs."""
    errors = _shape_errors(document, file)
    if errors:
        raise FlowInvalid(list(dict.fromkeys(errors)))


def _shape_errors(document: dict[str, Any], file: str) -> list[FlowError]:
    hostile = [_placed(file, document, list(path), sentence)
               for path, sentence in safe_json.problems(document)]
    if hostile:  # checked first: a value nested 900 deep would exhaust the validator
        raise FlowInvalid(hostile)
    return [placed for error in sorted(_flow_validator.iter_errors(document), key=error_order)
            for placed in _shape_error(file, document, error)]


def check_flow(document: dict[str, Any], registry: Registry, file: str = "<flow>",
               env: Mapping[str, str] | None = None, resolve_env: bool = True,
               shared: Mapping[str, dict[str, Any]] | None = None) -> Flow:
    """Check a parsed flow against the file schema and each node type's schema.

    ``shared``: the node entries, by id, of the other flow files the process runs, which
    a connection field may name (wires stay in their file).

    Shape errors (an unknown key such as Node-RED's ``z``) do not hide config errors:
    every node whose id and type can be read is checked as far as its parts allow.
    With ``resolve_env`` false, ``${NAME}`` placeholders are left as they are and an
    unset variable is not an error (for linting flows away from the device).
    """
    env = os.environ if env is None else env
    nodes = document.get("nodes")
    entries = [entry for entry in nodes if readable_entry(entry)] if isinstance(nodes, list) else []
    others = shared or {}
    checked = _memos.start(registry, file, resolve_env, [*entries, *others.values()])
    errors = _shape_errors(_unknown_part(document, checked), file)
    by_id: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["id"] in by_id:
            errors.append(FlowError(file, "duplicate id: another node has the same id",
                                    entry["id"], "/id"))
        by_id[entry["id"]] = entry
    own = None if any(error.pointer.startswith("/subflow") for error in errors) \
        else definition_of(document, Path(file).stem, file)
    expansion = expand(entries, registry, file, own)
    if expansion.used or own:  # the memo must know the subflows it was made with
        checked = _memos.start(registry, file, resolve_env,
                               [*expansion.entries, *others.values()],
                               tuple(definition.digest for definition in expansion.used))
    errors += expansion.errors
    for entry in [*expansion.entries, *expansion.stand_ins]:
        by_id.setdefault(entry["id"], entry)

    specs = []
    for entry in expansion.entries:
        spec, node_errors = checked.check(entry, lambda entry: _check_node(
            entry, by_id, registry, file, env, resolve_env, others))
        errors.extend(map(expansion.placed, node_errors))
        if spec is not None:
            specs.append(spec)
    errors.extend(map(expansion.placed, reference_cycle_errors(specs, registry)))
    if errors:  # a sentence said once per field
        raise FlowInvalid(list(dict.fromkeys(expansion.without_derived(errors))))
    _memos.commit(registry, file, resolve_env, checked)
    context = document.get("context", {})
    nodes, instances = running_nodes(specs, expansion.instances)
    disabled = {entry["id"] for entry in expansion.entries if entry.get("disabled") is True}
    return Flow(file, document, _enabled(nodes, disabled), instances,
                context_stores={file: context.get("store", "memory")})


def _enabled(nodes: tuple[NodeSpec, ...], disabled: set[str]) -> tuple[NodeSpec, ...]:
    """The nodes to run: disabled ones left out, and the wires into them, so a message
    sent there goes nowhere (Node-RED's disabled node, ``d: true``)."""
    if not disabled:
        return nodes
    return tuple(replace(spec, wires=tuple(tuple(target for target in port
                                                 if target not in disabled)
                                           for port in spec.wires))
                 for spec in nodes if spec.id not in disabled)


_memos = CheckMemos()
"""What the last valid check of each flow found (see check_memo)."""


def _unknown_part(document: dict[str, Any], checked: CheckMemo[NodeSpec]) -> dict[str, Any]:
    """The document without the entries the last valid check of this flow found valid:
    those need no shape or hostile-value check again."""
    nodes = document.get("nodes")
    if not checked.previous or not isinstance(nodes, list):
        return document
    return {**document, "nodes": [entry for entry in nodes if not checked.known(entry)]}


def _wires_of(entry: dict[str, Any]) -> list[list[str]]:
    """The node's wires where they have the right shape (a shape error says the rest)."""
    wires = entry.get("wires", [])
    if not isinstance(wires, list):
        return []
    return [[target for target in port if isinstance(target, str)]
            if isinstance(port, list) else [] for port in wires]


def _check_node(entry: dict[str, Any], by_id: Mapping[str, dict[str, Any]],
                registry: Registry, file: str, env: Mapping[str, str], resolve_env: bool,
                shared: Mapping[str, dict[str, Any]]
                ) -> tuple[NodeSpec | None, list[FlowError]]:
    node_id = entry["id"]

    def error(pointer: str, message: str) -> FlowError:
        return FlowError(file, message, node_id, pointer)

    cls = registry.get(entry["type"])
    if cls is None:
        broken = registry.load_error(entry["type"])
        hint = registry.closest(entry["type"])
        return None, [error("/type", f"unknown node type '{entry['type']}'"
                            + (f" (it did not load: {broken})" if broken else
                               f"; did you mean '{hint}'?" if hint else ""))]
    if cls.runs_code and not registry.allow_code:
        return None, [error("/type", f"{cls.type} nodes run code with the runtime's "
                                     f"rights, which this device refuses "
                                     f"(--no-function-nodes)")]
    errors: list[FlowError] = []
    config = entry.get("config", {})
    if not isinstance(config, dict):  # the shape error says so; nothing more to check
        return None, errors
    config = copy_json(config)
    from_env: set[str] = set()
    if resolve_env:
        for pointer, name in substitute_env(config, env, resolved=from_env):
            errors.append(error(f"/config{pointer}",
                                f"environment variable {name} is not set"))
    fill_defaults(cls.schema, config)
    for pointer, message in config_problems(registry, cls, config):
        if _shows_env_value(pointer, message, from_env, config):  # never echo a secret
            message = f"the value from the environment (not shown) {message}"
        errors.append(error(f"/config{pointer}", message))

    wires = _wires_of(entry)
    errors.extend(_port_errors(cls, config, wires, bool(errors), error))
    for port, targets in enumerate(wires):
        for index, target in enumerate(targets):
            where = f"/wires/{port}/{index}"
            if target not in by_id:
                errors.append(error(where, f"wire to missing node '{target}'"))
                continue
            target_cls = registry.get(by_id[target]["type"])
            if target_cls is not None and target_cls.inputs == 0:
                errors.append(error(where, f"wire to node '{target}', but "
                                           f"{target_cls.type} has no input"))

    refs = []
    for pointer, wanted, target in config_references(cls.schema, config):
        refs.append(target)
        found = by_id.get(target) or shared.get(target)
        problem = reference_problem(wanted, target, found["type"] if found else None)
        if not problem and found is not None and found.get("disabled") is True \
                and entry.get("disabled") is not True:
            problem = (f"refers to {found['type']} '{target}', which is disabled; enable "
                       f"it, or disable this node too")
        if problem:
            errors.append(error(f"/config{pointer}", problem))
    name = entry.get("name", "")
    spec = NodeSpec(node_id, cls.type, name if isinstance(name, str) else "", config,
                    tuple(tuple(port) for port in wires), tuple(refs), file)
    return spec, errors


def _port_errors(cls: type[Node], config: dict[str, Any], wires: list[list[str]],
                 config_invalid: bool, error: Callable[[str, str], FlowError]
                 ) -> list[FlowError]:
    """A wire from a port the node does not have (with this config, for a type whose
    outputs follow it): the first such port is named. An invalid config gives no
    count to compare with; its own errors say what to fix first."""
    if not follows_config(cls):
        count, which = cls.outputs, ""
    elif config_invalid:
        return []
    else:
        try:
            count = outputs_of(cls, config)
        except OutputCountError as exc:
            return [error("/config", f"cannot tell how many outputs this config gives: {exc}")]
        which = " with this config" + (f" ({cls.outputs_rule})" if cls.outputs_rule else "")
    if len(wires) <= count:
        return []
    return [error(f"/wires/{count}", f"output port {count} does not exist: {cls.type} has "
                                     f"{count} output(s){which}")]


def _shows_env_value(pointer: str, message: str, from_env: set[str],
                     config: dict[str, Any]) -> bool:
    """Would this error message show (part of) a value taken from the environment?"""
    if pointer in from_env:
        return True
    for env_pointer in from_env:
        if env_pointer.startswith(pointer + "/") or not pointer:
            value = _at(config, env_pointer)
            if isinstance(value, str) and value and value in message:
                return True
    return False


def _at(value: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        value = value[int(part)] if isinstance(value, list) else value.get(part)
    return value


def _shape_error(file: str, document: dict[str, Any], error: ValidationError
                 ) -> Iterator[FlowError]:
    node_id, path = _place(document, list(error.absolute_path))
    for pointer, message in describe(error, path):
        yield FlowError(file, message, node_id, pointer)


def _placed(file: str, document: Any, path: list[Any], message: str) -> FlowError:
    node_id, path = _place(document, path)
    return FlowError(file, message, node_id, pointer_of(path))


def _place(document: Any, path: list[Any]) -> tuple[str | None, list[Any]]:
    """Inside a node, the place of ``path`` is the node's id and the path below it."""
    if (len(path) >= 2 and path[0] == "nodes" and isinstance(document, dict)
            and isinstance(document.get("nodes"), list)
            and isinstance(path[1], int) and path[1] < len(document["nodes"])):
        entry = document["nodes"][path[1]]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            return entry["id"], path[2:]
    return None, path


def write_flow(path: str | Path, document: Mapping[str, Any]) -> None:
    """Write a flow in canonical form, atomically."""
    atomic_write(path, canonical_text(document).encode("utf-8"))
