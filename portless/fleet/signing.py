"""Flow files into a signed bundle, as ``portless fleet sign``, ``publish`` and
``rollback`` make one: read as UTF-8 text, the commit named, signed with the key."""

from __future__ import annotations

from pathlib import Path

from . import keys
from .bundle import Bundle, BundleFile, BundleRefused, sign
from .git import NotInHistory, commit_of, file_at

MAX_FLOW_FILE = 4 * 1024 * 1024


def sign_files(files: list[Path], key_file: Path, version: int, rollback: bool = False
               ) -> tuple[Bundle, bytes]:
    """The bundle of ``files`` as committed (HEAD) and its signed document. Raises
    KeyFileError, DirtyFiles, BundleRefused or OSError."""
    private = keys.load_private(key_file)
    bundle = Bundle(version=version, commit=commit_of(files), rollback=rollback,
                    files=tuple(BundleFile(file.name, read_flow_text(file))
                                for file in files))
    return bundle, sign(bundle, private)


def sign_rollback(files: list[Path], key_file: Path, version: int, commit: str
                  ) -> tuple[Bundle, bytes]:
    """A signed rollback bundle of ``files`` as they were at ``commit`` (``git show
    COMMIT:path``), recording that commit. Raises what sign_files does, or
    NotInHistory."""
    private = keys.load_private(key_file)
    contents, commits = [], set()
    for file in files:
        full, data = file_at(commit, file)
        commits.add(full)
        if len(data) > MAX_FLOW_FILE:
            raise BundleRefused(f"{file.name} at {full}: larger than {MAX_FLOW_FILE} bytes")
        contents.append(BundleFile(file.name, decode_flow_text(data, f"{file.name} at "
                                                                     f"{full}")))
    if len(commits) != 1:
        raise NotInHistory("the flow files are not all in one git repository")
    bundle = Bundle(version=version, commit=commits.pop(), rollback=True,
                    files=tuple(contents))
    return bundle, sign(bundle, private)


def read_flow_text(path: Path) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_FLOW_FILE + 1)
    if len(data) > MAX_FLOW_FILE:
        raise BundleRefused(f"{path}: larger than {MAX_FLOW_FILE} bytes")
    return decode_flow_text(data, str(path))


def decode_flow_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleRefused(f"{name}: not UTF-8 text") from None
