"""The node registry: which node types exist and where each came from.

Discovery order: built-ins (entry points of the ``portless`` distribution itself), then
entry points of other installed distributions in the group ``portless.nodes``, then
Python files in ``--nodes-dir`` directories. The registry is an object handed to the
engine, not a global, so tests can build one with exactly the types they need.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import logging
import sys
import weakref
from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .compiled_schema import CompiledSchema
from .errors import RegistryError
from .node import MAX_OUTPUTS, Node, default_outputs, follows_config

ENTRY_POINT_GROUP = "portless.nodes"
BUILTIN_DISTRIBUTION = "portless"

log = logging.getLogger("portless.registry")


class Registry:
    """Node types by name, each with its source and its compiled config validator."""

    def __init__(self, types: Iterable[type[Node]] = (), source: str = "test") -> None:
        self._types: dict[str, type[Node]] = {}
        self._sources: dict[str, str] = {}
        self._validators: dict[str, CompiledSchema] = {}
        self.load_errors: list[str] = []
        """Plugins that failed to load, each as one readable line; the rest still loaded."""
        self._broken: dict[str, str] = {}
        """Type name -> why it did not load, for types a plugin defined malformed."""
        self.allow_code = True
        """False on a locked-down device (``--no-function-nodes``): a flow using a type
        that ``runs_code`` is refused, as an unknown type is."""
        for cls in types:
            self.add(cls, source)

    @classmethod
    def discover(cls, node_dirs: Iterable[str | Path] = ()) -> Registry:
        """Built-ins, then installed plugins, then the given directories."""
        registry = cls()
        found = sorted(entry_points(group=ENTRY_POINT_GROUP),
                       key=lambda ep: _distribution(ep) != BUILTIN_DISTRIBUTION)
        for entry in found:
            registry._load_entry_point(entry)
        for directory in node_dirs:
            registry.load_directory(Path(directory))
        return registry

    def copy(self) -> Registry:
        """An independent registry with the same types: adding to it leaves this one as
        it is (a test harness copies one discovery instead of repeating it)."""
        twin = Registry()
        twin._types = dict(self._types)
        twin._sources = dict(self._sources)
        twin._validators = dict(self._validators)
        twin.load_errors = list(self.load_errors)
        twin._broken = dict(self._broken)
        twin.allow_code = self.allow_code
        return twin

    def add(self, cls: type[Node], source: str, *, reload: bool = False) -> None:
        """Register one node class; a name already taken is an error naming both
        sources, unless ``reload`` and the same source took it (a subflow file read
        again replaces its type)."""
        _check_class(cls, source)
        if cls.type in self._types:
            if self._types[cls.type] is cls:
                return
            if not (reload and self._sources[cls.type] == source):
                raise RegistryError(
                    f"node type '{cls.type}' is defined twice: by {self._sources[cls.type]} "
                    f"and by {source}")
        self._types[cls.type] = cls
        self._sources[cls.type] = source
        self._broken.pop(cls.type, None)
        self._validators[cls.type] = _validated[cls]

    def load_directory(self, directory: Path) -> None:
        """Import every ``*.py`` file in a directory and register the node classes in it."""
        if not directory.is_dir():
            raise RegistryError(f"--nodes-dir {directory}: not a directory")
        for path in sorted(directory.glob("*.py")):
            module_name = f"portless_nodes_dir.{path.stem}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                if spec is None or spec.loader is None:
                    raise ImportError("not an importable Python file")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception as exc:
                self._failed(f"nodes dir file {path}", exc)
                continue
            for cls in _node_classes(vars(module).values(), module_name):
                self.add_loaded(cls, f"nodes dir file {path}")

    def _load_entry_point(self, entry: EntryPoint) -> None:
        dist = _distribution(entry)
        source = ("built-in" if dist == BUILTIN_DISTRIBUTION
                  else f"plugin {dist} ({entry.value})")
        try:
            loaded = entry.load()
        except Exception as exc:
            self._failed(f"plugin {dist} (entry point {entry.name} = {entry.value})", exc)
            return
        classes = (_node_classes(vars(loaded).values(), loaded.__name__)
                   if inspect.ismodule(loaded) else [loaded])
        for cls in classes:
            self.add_loaded(cls, source, trusted=dist == BUILTIN_DISTRIBUTION)

    def add_loaded(self, cls: type[Node], source: str, *, trusted: bool = False,
                   reload: bool = False) -> None:
        """Register a class a plugin, --nodes-dir file or subflow file defined: a
        malformed one (an invalid schema, say) is a load error like a failed import, not
        fatal, so every other type still loads. Two sources defining one type stay
        fatal: which to run would be a guess."""
        try:
            _check_class(cls, source, trusted)
        except RegistryError as exc:
            name = getattr(cls, "type", None)
            self.broken(str(exc), name if isinstance(name, str) and name else None)
            return
        self.add(cls, source, reload=reload)

    def _failed(self, what: str, exc: Exception) -> None:
        self.broken(f"{what} failed to load: {type(exc).__name__}: {exc}")

    def broken(self, line: str, type_name: str | None = None) -> None:
        """Record a source that failed to load (one readable line, logged); the rest
        still loads. With ``type_name``, a flow using that type is told why it is
        missing."""
        self.load_errors.append(line)
        if type_name is not None:
            self._broken[type_name] = line
        log.error("%s", line)

    def load_error(self, name: str) -> str | None:
        """Why the node type ``name`` did not load, when a plugin defined it malformed."""
        return self._broken.get(name)

    def get(self, name: str) -> type[Node] | None:
        return self._types.get(name)

    def source(self, name: str) -> str:
        return self._sources[name]

    def validator(self, name: str) -> CompiledSchema:
        """The compiled validator of a type's config schema (compiled once per class)."""
        return self._validators[name]

    def describe(self, cls: type[Node]) -> dict[str, Any]:
        """What a palette, a form or ``portless nodes --json`` needs to know of a type.

        ``outputs`` is the count with the schema's defaults; where it follows the config
        (``outputs_from_config``), ``outputs_rule`` says how, in words."""
        dynamic = follows_config(cls)
        return {"type": cls.type, "category": cls.category, "inputs": cls.inputs,
                "outputs": default_outputs(cls) if dynamic else cls.outputs,
                "outputs_from_config": dynamic, "outputs_rule": cls.outputs_rule,
                "shared": cls.shared, "color": cls.color,
                "icon": cls.icon, "source": self.source(cls.type), "schema": cls.schema}

    def closest(self, name: str) -> str | None:
        """The known type name most like ``name``, for "did you mean" hints."""
        return closest_name(name, self._types)

    def __iter__(self) -> Iterator[type[Node]]:
        return iter(self._types.values())

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)


SIMILARITY_CUTOFF = 0.75
"""How alike (difflib ratio) a name must be to be suggested: "debgu" -> "debug" (0.8)
and "exception-filtr" -> "exception-filter" pass, "change" -> "scale" (0.55) does not."""


def closest_name(name: str, known: Iterable[str]) -> str | None:
    """The one name in ``known`` close enough to ``name`` to be a likely typo, if any."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=SIMILARITY_CUTOFF)
    return matches[0] if matches else None


def _distribution(entry: EntryPoint) -> str:
    return entry.dist.name if entry.dist is not None else "?"


def _node_classes(values: Iterable[Any], module_name: str) -> list[type[Node]]:
    """Node subclasses defined (not merely imported) in a module, that name a type."""
    return [value for value in values
            if inspect.isclass(value) and issubclass(value, Node) and value is not Node
            and value.__module__ == module_name and value.type]


def _check_class(cls: Any, source: str, trusted: bool = False) -> None:
    """Refuse a malformed node class. A ``trusted`` one (a built-in) skips the schema's
    meta-schema check, tens of milliseconds at every start: the test suite checks the
    built-in schemas (tests/runtime/test_registry.py), a plugin's is checked here."""
    if not (inspect.isclass(cls) and issubclass(cls, Node)):
        raise RegistryError(f"{source}: {cls!r} is not a subclass of portless.runtime.Node")
    if not isinstance(cls.type, str) or not cls.type:
        raise RegistryError(f"{source}: {cls.__qualname__} has no 'type' name")
    if cls.inputs not in (0, 1):
        raise RegistryError(f"{source}: node type '{cls.type}': inputs must be 0 or 1")
    if not isinstance(cls.outputs, int) or not 0 <= cls.outputs <= MAX_OUTPUTS:
        raise RegistryError(f"{source}: node type '{cls.type}': outputs must be 0 to "
                            f"{MAX_OUTPUTS:,}")
    if not isinstance(cls.outputs_rule, str):
        raise RegistryError(f"{source}: node type '{cls.type}': outputs_rule must be text")
    if cls in _validated:
        return
    try:
        if not trusted:
            Draft202012Validator.check_schema(cls.schema)
    except SchemaError as exc:
        where = "".join(f"/{part}" for part in exc.path)
        raise RegistryError(
            f"{source}: node type '{cls.type}': config schema is invalid: "
            f"{where + ': ' if where else ''}{exc.message}") from None
    _validated[cls] = CompiledSchema(cls.schema)


_validated: weakref.WeakKeyDictionary[type[Node], CompiledSchema] = (
    weakref.WeakKeyDictionary())
"""Each class's config validator, made once per process when its schema first passed
the meta-schema check: the check costs milliseconds and every registry repeats it."""
