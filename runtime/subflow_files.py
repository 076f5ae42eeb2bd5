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

from .errors import FlowInvalid, RegistryError
from .flow import check_shape, read_flow
from .registry import Registry
from .subflow import SUBFLOW_PREFIX, definition_of, subflow_type

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
    """Register every subflow in a directory; read again, a file replaces its type.

    A file that cannot be read, does not declare a subflow or has a malformed
    declaration is a load error (``registry.load_errors``), and flows using it are told
    why; the rest still load. Two directories defining one name is an error naming both.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise RegistryError(f"--subflows {directory}: not a directory")
    for path in sorted(directory.glob("*.json")):
        source = f"subflow file {path}"
        name = path.stem
        if not _NAME.fullmatch(name):
            registry.broken(f"{source}: the file name must start with a letter or digit "
                            f"and hold only letters, digits and _ . - (it names the type)")
            continue
        try:
            document = read_flow(path)
            check_shape(document, str(path))
            definition = definition_of(document, name, str(path))
        except FlowInvalid as exc:
            registry.broken(f"{source} failed to load: {exc.errors[0]}"
                            + (f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1
                               else ""), SUBFLOW_PREFIX + name)
            continue
        if definition is None:
            registry.broken(f"{source}: not a subflow (it has no 'subflow' declaration)")
            continue
        registry.add_loaded(subflow_type(definition), source, reload=True)
