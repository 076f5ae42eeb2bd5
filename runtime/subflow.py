"""Subflows: a flow file that declares an input, outputs and parameters is a node type,
``subflow:NAME``, usable in other flows like any node.

Each instance is expanded when the flow using it is checked: the subflow's nodes are
copied with ids ``INSTANCE/INNER`` (a written id cannot hold "/", so they never collide
with one), the instance's parameters filled into their configs as ``${NAME}``, and
wires to and from the instance led through to the inner nodes (subflow_wiring.py). The
engine then runs plain nodes; it never sees an instance.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .config import PLACEHOLDER_PATTERN, REF_KEYWORD, config_references, copy_json, fill_defaults
from .errors import FlowError, FlowInvalid
from .node import MAX_OUTPUTS, Node, follows_config
from .outputs import config_outputs
from .registry import Registry, closest_name

SUBFLOW_PREFIX = "subflow:"
"""Node types named ``subflow:NAME`` are subflows; NAME is the file's name."""
MAX_DEPTH = 8
"""How deep subflows may sit inside subflows; a deeper chain is almost surely a mistake."""
DEFAULT_CATEGORY = "subflows"


@dataclass(frozen=True)
class Source:
    """What feeds one output of a subflow: an inner node's port, or (``node`` None)
    the subflow's own input, passed straight through."""

    node: str | None
    port: int = 0


@dataclass(frozen=True, eq=False)
class SubflowDefinition:
    """A subflow as its file declares it."""

    name: str
    file: str
    title: str
    nodes: tuple[dict[str, Any], ...]
    """The inner node entries as written (parameters not yet filled in)."""
    input: tuple[str, ...] | None
    """Inner nodes the instance's input feeds; None: the subflow has no input."""
    outputs: tuple[tuple[Source, ...], ...]
    parameters: dict[str, Any]
    """The JSON Schema of an instance's config; every property has a default."""
    status: str | None
    category: str
    digest: str
    """A hash of the file's content: instances restart when it changes."""


def definition_of(document: Mapping[str, Any], name: str, file: str) -> SubflowDefinition | None:
    """The subflow a parsed flow document declares (None if it declares none); the
    document has passed the flow schema (check_shape)."""
    declared = document.get("subflow")
    if not isinstance(declared, dict):
        return None
    parameters = {"type": "object", "additionalProperties": False,
                  **declared.get("parameters", {})}
    parameters.setdefault("properties", {})
    title = parameters.get("title") or document.get("name") or name
    return SubflowDefinition(
        name=name, file=file, title=title,
        nodes=tuple(entry for entry in document.get("nodes", []) if readable_entry(entry)),
        input=tuple(declared["input"]) if "input" in declared else None,
        outputs=tuple(tuple(Source(source.get("node"), source.get("port", 0))
                            for source in sources) for sources in declared.get("outputs", [])),
        parameters={"title": title, **parameters},
        status=declared.get("status"), category=declared.get("category", DEFAULT_CATEGORY),
        digest=hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest())


class SubflowNode(Node):
    """The node type of a subflow, for what reads node types (the palette, forms,
    ``portless nodes``, the checker). It is never started: a flow's check replaces
    each instance by the subflow's own nodes."""

    definition: ClassVar[SubflowDefinition]


def subflow_type(definition: SubflowDefinition) -> type[SubflowNode]:
    """A node type for a subflow: its parameters are the config schema."""
    return type(f"Subflow[{definition.name}]", (SubflowNode,), {
        "type": SUBFLOW_PREFIX + definition.name, "schema": definition.parameters,
        "inputs": 0 if definition.input is None else 1, "outputs": len(definition.outputs),
        "category": definition.category, "icon": "subflow", "definition": definition,
        "__module__": __name__, "__doc__": definition.title})


def subflow_of(registry: Registry, node_type: str) -> SubflowDefinition | None:
    """The definition of a registered subflow type, None for any other type."""
    cls = registry.get(node_type)
    return cls.definition if cls is not None and issubclass(cls, SubflowNode) else None


# --- expansion ---------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    """Where an expanded node comes from: the instance written in the flow file (its
    id and type) and the path of the node inside it ("filter", "inner-sf/filter")."""

    instance: str
    type: str
    inner: str
    parameters: tuple[str, ...] = ()
    """The parameter names its config may use (its instance's and those around it)."""

    def describe(self) -> str:
        return f"{self.type}, inner node {self.inner}"


@dataclass(frozen=True)
class SubflowInstance:
    """One expanded subflow instance (nested ones have ids like ``a/b``)."""

    id: str
    type: str
    input: tuple[str, ...]
    """Expanded ids its input feeds (instances among them are led through further)."""
    outputs: tuple[tuple[Source, ...], ...]
    """Per output port, the expanded sources feeding it."""
    status: str | None
    """The expanded id whose status the instance shows (None: the worst of its nodes)."""
    revision: str
    """Changes with the definition or the parameters (its own or an enclosing one's)."""
    reaches: tuple[str, ...] = ()
    """The running nodes a message into the instance goes to (once wired through)."""


@dataclass
class Expansion:
    """A flow's entries with every subflow instance expanded; the instances' own entries
    stay too, so they are checked (parameters, wires) like any node."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    places: dict[str, Place] = field(default_factory=dict)
    instances: dict[str, SubflowInstance] = field(default_factory=dict)
    errors: list[FlowError] = field(default_factory=list)
    used: list[SubflowDefinition] = field(default_factory=list)
    """Each subflow expanded, once."""
    stand_ins: list[dict[str, Any]] = field(default_factory=list)
    """For a subflow checked on its own: an entry for the default of each parameter
    naming a shared connection (``x-ref``), which the flow using it provides."""

    def without_derived(self, errors: list[FlowError]) -> list[FlowError]:
        """Errors without the inner nodes' config errors of an instance whose
        parameters are wrong: those follow from its own errors, which say what to fix."""
        wrong = {error.node_id for error in errors
                 if not error.inner and error.pointer.startswith("/config")}
        return [error for error in errors
                if not (error.inner and error.node_id in wrong
                        and error.pointer.startswith("/config"))]

    def placed(self, error: FlowError) -> FlowError:
        """An error about an expanded node, said of the instance written in the file."""
        place = self.places.get(error.node_id or "")
        if place is None:
            return error
        message = error.message
        unset = _UNSET_VARIABLE.fullmatch(message)
        hint = closest_name(unset.group(1), place.parameters) if unset else None
        if hint is not None:  # a misspelt parameter reads as a variable
            message += f", and no parameter is named so; did you mean '{hint}'?"
        return FlowError(error.file, message, place.instance, error.pointer,
                         place.describe())


def expand(entries: Iterable[dict[str, Any]], registry: Registry, file: str,
           own: SubflowDefinition | None = None) -> Expansion:
    """Expand every subflow instance among a flow's readable entries, however deep.

    ``own`` is the subflow this very file declares: its nodes are checked with its
    parameters' defaults, and an instance of itself inside it is a loop.
    """
    expansion = Expansion()
    chain = (own.name,) if own else ()
    defaults = [_parameters(own, {})] if own else []
    for entry in entries:
        if own is not None:
            entry = _filled(entry, defaults)
        expansion.entries.append(entry)
        _expand(expansion, entry, registry, file, defaults, chain, "", None)
    if own is not None:
        expansion.errors += [FlowError(file, message, None, pointer)
                             for pointer, message in declaration_errors(own, registry)]
        expansion.stand_ins = [
            {"id": field["default"], "type": field[REF_KEYWORD]}
            for field in own.parameters["properties"].values()
            if isinstance(field, dict) and REF_KEYWORD in field
            and isinstance(field.get("default"), str) and field["default"]]
    return expansion


def _expand(expansion: Expansion, entry: dict[str, Any], registry: Registry, file: str,
            outer: list[dict[str, Any]], chain: tuple[str, ...], revision: str,
            place: Place | None) -> None:
    definition = subflow_of(registry, entry["type"])
    if definition is None:
        return
    where = place or Place(entry["id"], entry["type"], "")
    if definition.name in chain or len(chain) >= MAX_DEPTH:
        path = " -> ".join(SUBFLOW_PREFIX + name for name in (*chain, definition.name))
        problem = ("uses itself" if definition.name in chain
                   else f"nests subflows deeper than {MAX_DEPTH}")
        expansion.errors.append(expansion.placed(FlowError(
            file, f"{SUBFLOW_PREFIX}{chain[0]} {problem}: {path}", entry["id"], "/type")))
        return
    if definition not in expansion.used:
        expansion.used.append(definition)
    for pointer, message in declaration_errors(definition, registry):
        expansion.errors.append(expansion.placed(FlowError(
            file, f"{entry['type']} ({definition.file}): {pointer}: {message}",
            entry["id"], "/type")))
    raw = entry.get("config", {})
    parameters = _parameters(definition, raw if isinstance(raw, dict) else {})
    scope = [parameters, *outer]
    revision = _hash(revision, definition.digest, json.dumps(parameters, sort_keys=True))
    prefix = entry["id"] + "/"
    inner_ids = {inner["id"] for inner in definition.nodes}
    for inner in definition.nodes:
        copy = _filled(inner, scope)
        copy["id"] = prefix + inner["id"]
        if entry.get("disabled") is True:  # a disabled instance runs none of its nodes
            copy["disabled"] = True
        _namespace(copy, prefix, inner_ids, registry)
        inner_place = Place(where.instance, where.type,
                            f"{where.inner}/{inner['id']}" if where.inner else inner["id"],
                            tuple(name for names in scope for name in names))
        expansion.entries.append(copy)
        expansion.places[copy["id"]] = inner_place
        _expand(expansion, copy, registry, file, scope, (*chain, definition.name), revision,
                inner_place)
    expansion.instances[entry["id"]] = SubflowInstance(
        entry["id"], entry["type"], tuple(prefix + target for target in definition.input or ()),
        tuple(tuple(Source(prefix + source.node if source.node is not None else None,
                           source.port) for source in sources)
              for sources in definition.outputs),
        prefix + definition.status if definition.status else None, revision)


def _parameters(definition: SubflowDefinition, config: Mapping[str, Any]) -> dict[str, Any]:
    """An instance's parameters as written, with the defaults filled in (``${ENV}`` in
    them is left for the inner nodes' own check, which keeps such values out of its
    error messages)."""
    parameters: dict[str, Any] = copy_json(dict(config))
    fill_defaults(definition.parameters, parameters)
    return parameters


def _filled(entry: dict[str, Any], scope: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of a node entry with the parameters in ``scope`` (innermost first) filled
    into its config."""
    copy: dict[str, Any] = copy_json(entry)
    if isinstance(copy.get("config"), dict):
        copy["config"] = substitute_parameters(copy["config"], scope)
    return copy


def substitute_parameters(value: Any, scope: Sequence[Mapping[str, Any]]) -> Any:
    """``value`` with ``${NAME}`` of every parameter in ``scope`` (innermost first)
    replaced: a string that is only ``${NAME}`` takes the parameter's value as it is (a
    number stays a number), one inside text its text. Other names are left as they are,
    for the environment."""
    if isinstance(value, dict):
        return {key: substitute_parameters(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_parameters(item, scope) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = PLACEHOLDER_PATTERN.fullmatch(value)
    if whole:
        found = _lookup(scope, whole.group(1))
        return value if found is _UNSET else copy_json(found)

    def replace(match: Any) -> str:
        found = _lookup(scope, match.group(1))
        if found is _UNSET:
            return str(match.group(0))
        return found if isinstance(found, str) else json.dumps(found)
    return PLACEHOLDER_PATTERN.sub(replace, value)


_UNSET = object()
_UNSET_VARIABLE = re.compile(r"environment variable (\S+) is not set")
"""The check's sentence for a ${NAME} that nothing filled in (flow.py)."""


def _lookup(scope: Sequence[Mapping[str, Any]], name: str) -> Any:
    return next((parameters[name] for parameters in scope if name in parameters), _UNSET)


def _namespace(entry: dict[str, Any], prefix: str, inner_ids: set[str],
               registry: Registry) -> None:
    """Point an inner node's wires, and its references to shared connections defined
    in the subflow, at this instance's copies. A reference to any other id stays: it
    names a connection of the flow that uses the subflow."""
    wires = entry.get("wires")
    if isinstance(wires, list):
        entry["wires"] = [[prefix + target if isinstance(target, str) else target
                           for target in port] if isinstance(port, list) else port
                          for port in wires]
    cls = registry.get(entry["type"])
    config = entry.get("config")
    if cls is None or not isinstance(config, dict):
        return
    for pointer, _, target in list(config_references(cls.schema, config)):
        if target in inner_ids:
            *parents, key = pointer.split("/")[1:]
            holder = config
            for part in parents:
                holder = holder[part]
            holder[key] = prefix + target


def declaration_errors(definition: SubflowDefinition, registry: Registry
                       ) -> list[tuple[str, str]]:
    """(pointer, sentence) for what the declaration names wrongly: an inner node that
    does not exist, has no input, or lacks the output port named."""
    by_id = {entry["id"]: entry for entry in definition.nodes}

    def cls_of(node_id: str) -> type[Node] | None:
        return registry.get(by_id[node_id]["type"]) if node_id in by_id else None
    errors = []
    for index, target in enumerate(definition.input or ()):
        cls = cls_of(target)
        if target not in by_id:
            errors.append((f"/subflow/input/{index}", f"names missing node '{target}'"))
        elif cls is not None and cls.inputs == 0:
            errors.append((f"/subflow/input/{index}", f"names node '{target}', but "
                                                      f"{cls.type} has no input"))
    for port, sources in enumerate(definition.outputs):
        for index, source in enumerate(sources):
            where = f"/subflow/outputs/{port}/{index}"
            if source.node is None:
                if definition.input is None:
                    errors.append((where, "passes the input through, but the subflow "
                                          "declares no input"))
                continue
            cls = cls_of(source.node)
            if source.node not in by_id:
                errors.append((where + "/node", f"names missing node '{source.node}'"))
            elif cls is not None and source.port >= (count := _ports(
                    registry, cls, by_id[source.node])):
                errors.append((where + "/port", f"output port {source.port} does not exist: "
                                                f"{cls.type} has {count} output(s)"))
    if definition.status is not None and definition.status not in by_id:
        errors.append(("/subflow/status", f"names missing node '{definition.status}'"))
    return errors


def _ports(registry: Registry, cls: type[Node], entry: dict[str, Any]) -> int:
    """The output ports of an inner node: its config's count for a type whose outputs
    follow it; any port, when that config cannot be counted (a ${PARAM} in it, say):
    the instance's own check says what is wrong with it."""
    if not follows_config(cls):
        return cls.outputs
    try:
        return config_outputs(registry, cls.type, entry.get("config", {}))
    except FlowInvalid:
        return MAX_OUTPUTS


def readable_entry(entry: Any) -> bool:
    """Can this node entry be checked further, whatever else its shape error says?"""
    return (isinstance(entry, dict) and isinstance(entry.get("id"), str)
            and isinstance(entry.get("type"), str))


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
