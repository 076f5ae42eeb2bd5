"""Writing a conversion: every file in canonical form, atomically, and all or nothing
(an existing file is not overwritten unless asked, and a failed write removes what this
write made)."""

from __future__ import annotations

from pathlib import Path

from portless.runtime import FlowError, FlowInvalid, canonical_text
from portless.runtime.atomic import atomic_write

from .convert import Conversion


def write_conversion(conversion: Conversion, directory: str | Path,
                     overwrite: bool = False) -> list[Path]:
    """Write the conversion's files under ``directory``; the paths written."""
    base = Path(directory)
    targets = {base / relative: document for relative, document in conversion.files.items()}
    for target in targets:  # the names are the importer's own slugs; checked all the same
        if base.resolve() not in target.resolve().parents:
            raise FlowInvalid([FlowError(str(target), "outside the output directory")])
    existing = [target for target in targets if target.exists()]
    if existing and not overwrite:
        raise FlowInvalid([FlowError(str(target), "exists already; nothing was written "
                                                  "(give --force to overwrite)")
                           for target in existing])
    written: list[Path] = []
    made: list[Path] = []
    try:
        for target, document in targets.items():
            for parent in reversed(target.parents):
                if not parent.exists():
                    parent.mkdir()
                    made.append(parent)
            atomic_write(target, canonical_text(document).encode("utf-8"))
            written.append(target)
    except OSError as exc:
        for path in written:
            if path not in existing:
                path.unlink(missing_ok=True)
        for parent in reversed(made):
            parent.rmdir()
        raise FlowInvalid([FlowError(str(exc.filename or base), f"cannot write: "
                                     f"{exc.strerror or exc}; nothing was written")]) from None
    return written
