"""The commit a bundle's flow files come from, so that a device reports what it runs as
a commit an engineer can check out.

Signing refuses files whose text is not the commit's: modified, staged or untracked
(a device would otherwise report a commit that does not hold what it runs). Other
changes in the work tree do not matter to the bundle and are not looked at.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class DirtyFiles(ValueError):
    """A flow file to sign differs from the commit (or is not in it)."""


class NotInHistory(ValueError):
    """A commit, or a file in a commit, that the repository does not have."""


def commit_of(files: list[Path]) -> str | None:
    """The HEAD commit of the repository holding ``files``; None outside a repository.
    Raises DirtyFiles when a file is not as committed, or files span repositories."""
    tops = {_git(file.resolve().parent, "rev-parse", "--show-toplevel") for file in files}
    if tops == {None}:
        return None
    if len(tops) != 1 or None in tops:
        raise DirtyFiles("the flow files are not all in one git repository")
    top = Path(next(iter(tops)) or ".")
    commit = _git(top, "rev-parse", "--verify", "HEAD")
    if commit is None:
        raise DirtyFiles(f"the repository {top} has no commit yet; commit the flow files")
    status = _git(top, "status", "--porcelain", "--untracked-files=all", "--",
                  *(str(file.resolve()) for file in files))
    if status:
        raise DirtyFiles("these flow files are not as committed (commit them first, so "
                         "the bundle names the commit that holds them):\n" + status)
    return commit


def file_at(commit: str, path: Path) -> tuple[str, bytes]:
    """The full id of ``commit`` (any name git takes) in the repository holding ``path``,
    and the bytes ``path`` had in it (``git show COMMIT:path``). Raises NotInHistory
    naming what is missing."""
    directory = path.resolve().parent
    full = _git(directory, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if full is None:
        raise NotInHistory(f"{commit}: not a commit of the repository holding {path}")
    done = subprocess.run(["git", "-C", str(directory), "show", f"{full}:./{path.name}"],
                          capture_output=True, timeout=30, check=False)
    if done.returncode != 0:
        raise NotInHistory(f"{path.name}: not in commit {full}")
    return full, done.stdout


def _git(directory: Path, *args: str) -> str | None:
    """git's output without the final newline; None when git fails (not a repository)."""
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=30, check=False)
    except FileNotFoundError:  # no git installed: no repository to name
        return None
    return done.stdout.rstrip("\n") if done.returncode == 0 else None
