"""Where subflow definitions come from: ``*.json`` files in subflow directories, each
registered as the node type ``subflow:NAME`` (NAME: the file's name without .json).

The directories are the ``subflows`` directory beside a flow file (for a file inside a
directory named ``subflows``, that directory), and any named with ``--subflows DIR``. A
repository of such files is a library of node types written without Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import FlowError, FlowInvalid, RegistryError
from .file_watch import Stamp, file_stamp
from .flow import check_shape, read_flow
from .registry import Registry
from .subflow import SUBFLOW_PREFIX, SubflowDefinition, definition_of, subflow_type

SUBFLOW_DIR = "subflows"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def subflow_dirs(flow_files: Iterable[str | Path], given: Iterable[str | Path] = ()
                 ) -> list[Path]:
    """The directories to read subflows from for these flow files: those given, then
    each file's own (its ``subflows`` directory, or its directory if it is one), once
    each and only those that exist."""
    found: dict[Path, Path] = {}
    for directory in given:
        found.setdefault(Path(directory).resolve(), Path(directory))
    for file in flow_files:
        parent = Path(file).parent
        own = parent if parent.name == SUBFLOW_DIR else parent / SUBFLOW_DIR
        if own.is_dir():
            found.setdefault(own.resolve(), own)
    return list(found.values())


def load_subflows(registry: Registry, directory: str | Path) -> None:
    """Register every subflow in a directory (see ``load_subflow``)."""
    SubflowLibrary(registry, [directory])


def load_subflow(registry: Registry, path: Path) -> None:
    """Register one subflow file; read again, it replaces its type.

    A file that cannot be read, does not declare a subflow or has a malformed
    declaration is a load error (``registry.load_errors``, logged), and flows using it
    are told why; a type it registered before stays. Two directories defining one name
    is an error naming both.
    """
    source = f"subflow file {path}"
    name = path.stem
    if not _NAME.fullmatch(name):
        registry.broken(f"{source}: the file name must start with a letter or digit "
                        f"and hold only letters, digits and _ . - (it names the type)")
        return
    try:
        definition = _definition(path, read_flow(path))
    except FlowInvalid as exc:
        more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        registry.broken(f"{source} failed to load: {exc.errors[0]}{more}",
                        None if SUBFLOW_PREFIX + name in registry else SUBFLOW_PREFIX + name)
        return
    registry.add_loaded(subflow_type(definition), source, reload=True)


def with_subflow(registry: Registry, path: Path, document: dict[str, Any]) -> Registry:
    """A copy of ``registry`` in which the subflow file ``path`` holds ``document``, to
    check a change before it is written; raises FlowInvalid if it is no subflow."""
    definition = _definition(path, document)
    trial = registry.copy()
    try:
        trial.add(subflow_type(definition), f"subflow file {path}", reload=True)
    except RegistryError as exc:  # its parameters are no valid JSON Schema, say
        raise FlowInvalid([FlowError(str(path), str(exc))]) from None
    return trial


def _definition(path: Path, document: dict[str, Any]) -> SubflowDefinition:
    check_shape(document, str(path))
    definition = definition_of(document, path.stem, str(path))
    if definition is None:
        raise FlowInvalid([FlowError(str(path), "not a subflow: it has no 'subflow' "
                                                "declaration")])
    return definition


class SubflowLibrary:
    """The subflow directories of a running process: each file is read again when it
    changes on disk, so a deploy (from the editor or ``--reload``) uses what it holds
    now, and its instances restart."""

    def __init__(self, registry: Registry, directories: Iterable[str | Path]) -> None:
        """Reads every file at once; a directory that is none is an error."""
        self.registry = registry
        self.directories = [Path(directory) for directory in directories]
        for directory in self.directories:
            if not directory.is_dir():
                raise RegistryError(f"--subflows {directory}: not a directory")
        self._stamps: dict[Path, Stamp | None] = {}
        self.refresh()

    def files(self) -> list[Path]:
        """The subflow files there now."""
        return [path for directory in self.directories
                for path in sorted(directory.glob("*.json"))]

    def refresh(self) -> list[Path]:
        """Read the files that are new or changed since the last call (all of them at
        the first); returns them."""
        stamps = {path: file_stamp(path) for path in self.files()}  # before reading
        changed = [path for path, stamp in stamps.items()
                   if stamp != self._stamps.get(path, _NEVER)]
        for path in changed:
            self._stamps[path] = stamps[path]
            load_subflow(self.registry, path)
        return changed


_NEVER: Stamp = (-1, -1, -1)
