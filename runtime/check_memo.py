"""What the last valid check of a flow found, so that the next check of the same flow
re-checks only the node entries that changed (a deploy from the editor changes one).

An entry is known by its ``repr`` (exact for parsed JSON: 1, 1.0 and true differ, and
so do an escaped surrogate and NaN), and its check is reused only when everything else
it depended on is the same: the registry and file name (the memo's key), whether
``${ENV}`` is resolved (the key too), the environment (an entry holding ``${`` is never
reused), and the id and type of every node (``context``: wires and references must
point at the right kind of node; any change there starts afresh). A memo is kept for
the next check only if its whole flow was valid, so a reused entry also passed the
shape and hostile-value checks.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

Spec = TypeVar("Spec")

MEMOS_PER_OWNER = 8
"""Flow files remembered per registry (a runtime checks one; `validate` of many files
keeps the last few)."""


class CheckMemo(Generic[Spec]):
    """One check's memo: what it may reuse (``previous``) and what it found (``kept``)."""

    def __init__(self, context: tuple[Any, ...],
                 previous: dict[str, Spec]) -> None:
        self.context = context
        self.previous = previous
        self.kept: dict[str, Spec] = {}
        self._keys: dict[int, str] = {}
        """Each entry's repr by id(), made once per check (the entries outlive it)."""

    def _key(self, entry: Any) -> str:
        key = self._keys.get(id(entry))
        if key is None:
            key = self._keys[id(entry)] = repr(entry)
        return key

    def known(self, entry: Any) -> bool:
        """Did the last valid check of this flow find this very entry valid?"""
        return self._key(entry) in self.previous

    def check(self, entry: dict[str, Any],
              check: Callable[[dict[str, Any]], tuple[Spec | None, list[Any]]]
              ) -> tuple[Spec | None, list[Any]]:
        """The entry's spec and errors: remembered, or from ``check`` (and remembered)."""
        key = self._key(entry)
        spec = self.previous.get(key) or self.kept.get(key)
        if spec is not None:
            self.kept[key] = spec
            return spec, []
        spec, errors = check(entry)
        if spec is not None and not errors and "${" not in key:
            self.kept[key] = spec
        return spec, errors


class CheckMemos:
    """The memos of the flows checked with one registry."""

    def __init__(self) -> None:
        self._by_owner: weakref.WeakKeyDictionary[Any, dict[tuple[str, bool], CheckMemo[Any]]] \
            = weakref.WeakKeyDictionary()

    def start(self, owner: Any, file: str, resolve_env: bool,
              entries: Sequence[dict[str, Any]], versions: tuple[str, ...] = ()
              ) -> CheckMemo[Any]:
        """A memo for a check of ``entries``, able to reuse the last valid check's;
        ``versions`` of what else the check read (the subflows it expanded)."""
        context = (*((entry["id"], entry["type"]) for entry in entries), versions)
        last = self._by_owner.get(owner, {}).get((file, resolve_env))
        reusable = last.kept if last is not None and last.context == context else {}
        return CheckMemo(context, reusable)

    def commit(self, owner: Any, file: str, resolve_env: bool, memo: CheckMemo[Any]) -> None:
        """The check with ``memo`` found the flow valid: the next check starts from it."""
        memos = self._by_owner.setdefault(owner, {})
        memos.pop((file, resolve_env), None)
        memos[(file, resolve_env)] = memo
        memo._keys.clear()  # ids are only unique while this check's entries live
        while len(memos) > MEMOS_PER_OWNER:
            del memos[next(iter(memos))]
