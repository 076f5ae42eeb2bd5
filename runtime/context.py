"""Node, flow and global context: Node-RED's ``context``, ``flow`` and ``global``.

A node reaches them as ``self.node_context`` (its own, by node id), ``self.flow_context``
(shared by the nodes of its tab, the flow file it is written in; inside a subflow
instance the instance's own, with ``$parent.key`` for the one it is used in) and
``self.global_context`` (shared by the whole process), each with ``get``, ``set``,
``delete`` and ``keys``. A tab picks its store in its flow file (``"context": {"store":
"persistent"}``, for its flow context and its nodes' contexts); global context takes the
engine's ``global_context_store`` (``portless run --context-store``).

The memory store keeps the objects themselves: ``get`` returns the very object ``set``
was given, as in Node-RED, so a read per message costs a dict lookup. The persistent
store (context_sqlite.py) keeps JSON: ``set`` refuses what JSON cannot hold and ``get``
returns a copy, so what a node reads now is what it reads after a restart.

Contexts outlive deploys that keep their node or tab (changed nodes too); a deploy that
removes a node deletes its context, and one that removes a tab its flow context, in
both stores, as Node-RED's ``context.clean`` does; a rollback of that deploy (when its
new nodes fail to start) gives them back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .context_sqlite import DATABASE, FLUSH_INTERVAL, PersistentStore, encode
from .message import MISSING, clone_message
from .properties import PropertyPath, compiled_path

if TYPE_CHECKING:
    from .flow import Flow

StoreName = Literal["memory", "persistent"]
ContextKind = Literal["node", "flow", "global"]
STORES: tuple[StoreName, ...] = ("memory", "persistent")
GLOBAL = "global"
PARENT = "$parent."
"""A flow context key's prefix inside a subflow instance: the enclosing flow's context."""

log = logging.getLogger("portless.context")


class Scope:
    """The values of one context (a node's, a tab's or the global one) and where they
    are kept; shared by every view, and moved in place when its store changes."""

    __slots__ = ("data", "name", "persistent")

    def __init__(self, name: str, persistent: PersistentStore | None) -> None:
        self.name = name
        self.data: dict[str, Any] = {}
        self.persistent = persistent


class Context:
    """One context as one node sees it: errors name that node and the key.

    A key is a name (``count``) or a Node-RED property path into the context
    (``totals.valves[2]``): ``set`` creates what is missing on the way, as for a
    message property (properties.py)."""

    __slots__ = ("_kind", "_owner", "_parent", "_scope")

    def __init__(self, scope: Scope, owner: str, kind: ContextKind,
                 parent: Context | None = None) -> None:
        self._scope = scope
        self._owner = owner
        self._kind = kind
        self._parent = parent
        """Inside a subflow instance, the flow context it is used in: ``$parent.key``."""

    def __repr__(self) -> str:
        return f"<Context {self._scope.name} of node {self._owner!r}>"

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` where there is none. From the memory
        store it is the stored object itself; from the persistent store a copy."""
        scope = self._scope
        try:
            value = scope.data.get(key, MISSING)
        except TypeError:  # unhashable: said below
            value = MISSING
        if value is MISSING:
            path = self._path(key)
            if path is not None and key.startswith(PARENT):
                parent = self._parent
                return default if parent is None else parent.get(key[len(PARENT):], default)
            if path is None or (value := path.get(scope.data)) is MISSING:
                return default
        return value if scope.persistent is None else clone_message(value)

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` (None is kept as null; ``delete`` removes a key).

        The persistent store raises ValueError for a value JSON cannot hold exactly (a
        set, NaN, a tuple, nesting past 32 levels, over 1 MiB), naming node and key."""
        scope = self._scope
        if (scope.persistent is None and type(key) is str and key and "." not in key
                and "[" not in key):  # the common case, inline: a set per message
            scope.data[key] = value
            return
        path = self._path(key)
        if path is not None and key.startswith(PARENT):
            self._up(key).set(key[len(PARENT):], value)
        elif scope.persistent is not None:
            self._persist(key, path, value)
        elif path is None:
            scope.data[key] = value
        elif not path.set(scope.data, value):
            raise self._unreachable(key)

    def delete(self, key: str) -> None:
        """Remove ``key`` (a list item named by a path is cut out); nothing happens
        where there is none."""
        path = self._path(key)
        scope = self._scope
        if path is not None and key.startswith(PARENT):
            self._up(key).delete(key[len(PARENT):])
        elif scope.persistent is not None:
            self._persist(key, path, MISSING)
        elif path is None:
            scope.data.pop(key, None)
        else:
            path.delete(scope.data)

    def keys(self) -> list[str]:
        """The top-level keys set in this context, in the order they were first set."""
        return list(self._scope.data)

    # --- the parts -------------------------------------------------------------------
    def _path(self, key: Any) -> PropertyPath | None:
        """The parsed path of a key of several steps; None for a plain name."""
        if type(key) is not str or not key:
            raise TypeError(f"node {self._owner}: a {self._kind} context key is a "
                            f"non-empty string, not {key!r}")
        if "." not in key and "[" not in key:
            return None
        try:  # compiled_path drops a leading "msg.", which a context key keeps
            return compiled_path("msg." + key)
        except ValueError as exc:
            raise ValueError(f"node {self._owner}: the {self._kind} context key {key!r} "
                             f"is not a property path: {exc}") from None

    def _persist(self, key: str, path: PropertyPath | None, value: Any) -> None:
        """Set (or, with MISSING, delete) in the persistent store: the top-level value
        is changed in a copy and encoded whole, so a refused value changes nothing."""
        scope, store = self._scope, self._scope.persistent
        assert store is not None
        top = key if path is None else path.parts[0]
        if not isinstance(top, str | int):  # a reference ([msg.x]) names no one key
            raise ValueError(f"node {self._owner}: a persistent {self._kind} context key "
                             f"begins with a name, not {key!r}")
        top = str(top)
        old = scope.data.get(top, MISSING)
        if path is None:
            new = value
        else:
            work = {} if old is MISSING else {top: clone_message(old)}
            if value is MISSING:
                path.delete(work)
            elif not path.set(work, value):
                raise self._unreachable(key)
            new = work.get(top, MISSING)
        if new is MISSING:
            if old is not MISSING:
                del scope.data[top]
                store.put(scope.name, top, None)
            return
        try:
            text = encode(new)
            store.put(scope.name, top, text)
        except ValueError as exc:
            raise ValueError(f"node {self._owner}: cannot keep {self._kind} context "
                             f"key {key!r} in the persistent store: the value {exc}") from None
        scope.data[top] = json.loads(text)

    def _up(self, key: str) -> Context:
        if self._parent is None:
            raise ValueError(f"node {self._owner}: the {self._kind} context key {key!r} "
                             f"names $parent, which only the flow context inside a "
                             f"subflow instance has")
        return self._parent

    def _unreachable(self, key: str) -> ValueError:
        return ValueError(f"node {self._owner}: cannot set {self._kind} context key "
                          f"{key!r}: a step on the way holds a string, number, bool or "
                          f"null, which has no properties")


class Contexts:
    """Every context of an engine, by scope, and the persistent stores once used: one
    ``context.sqlite`` in each flow file's state directory (its node and flow contexts
    stay with the file, whichever set of files it runs in) and one in the process's
    (global context). With one flow file the two directories are one."""

    def __init__(self, global_store: StoreName = "memory",
                 flush_interval: float = FLUSH_INTERVAL) -> None:
        if global_store not in STORES:
            raise ValueError(f"the global context store is one of {', '.join(STORES)}, "
                             f"not {global_store!r}")
        self.global_store: StoreName = global_store
        self.flush_interval = flush_interval
        self._scopes: dict[str, Scope] = {}
        self._tab_of: dict[str, str] = {}
        """The tab (flow file, as named) owning each scope of the running flow."""
        self._flow_of: dict[str, str] = {}
        """The flow context scope of each node id: its tab's, or its subflow instance's."""
        self._parent: dict[str, str] = {}
        """A subflow instance's flow context scope -> the one it is used in ($parent)."""
        self._store_of: dict[str, StoreName] = {}
        """The store each tab of the running flow chose."""
        self._directory: Callable[[str | None], Path] = lambda tab: Path()
        self._removed: dict[str, Scope] = {}
        """The scopes the last deploy deleted, kept for a rollback of it."""
        self.stores: dict[Path, PersistentStore] = {}
        """The open persistent stores, by the directory they are in."""

    def view(self, node_id: str, kind: ContextKind) -> Context:
        """The context of kind ``kind`` as node ``node_id`` sees it."""
        if kind == "flow":
            return self._flow_view(self._flow_of.get(node_id, "flow:"), node_id)
        return Context(self._scope(f"node:{node_id}" if kind == "node" else GLOBAL),
                       node_id, kind)

    async def prepare(self, flow: Flow, directory: Callable[[str | None], Path],
                      existing: Iterable[Path], restore: bool = False) -> None:
        """Before the nodes of ``flow`` start (at start and at each deploy): learn its
        tabs and their stores, open the persistent stores they use (and any in the
        ``existing`` directories, so rows of a tab that went back to memory go too),
        delete the contexts of nodes, tabs and subflow instances it no longer has, and
        move contexts whose tab changed its store. ``directory(tab)`` is the state
        directory of a flow file (None: the process's); ``restore``: a rollback, which
        gives back what the deploy before deleted."""
        self._learn(flow)
        restored = self._removed if restore else {}
        self._store_of = {tab: "persistent" if store == "persistent" else "memory"
                          for tab, store in flow.context_stores.items()}
        self._directory = directory
        wanted = {directory(tab) for tab, store in self._store_of.items()
                  if store == "persistent" and tab in self._tab_of.values()}
        if self.global_store == "persistent":
            wanted.add(directory(None))
        wanted |= {path for path in existing if (path / DATABASE).exists()}
        for path in sorted(wanted - set(self.stores)):
            await self._open(path)
        self._removed = {}
        for name in [name for name in self._scopes if not self._known(name)]:
            scope = self._removed[name] = self._scopes.pop(name)
            if scope.persistent is not None:
                scope.persistent.drop(name)
                scope.persistent = None  # held in memory only, for a rollback
        for name, scope in restored.items():
            if self._known(name):
                self._scopes.setdefault(name, scope)
        for scope in self._scopes.values():
            self._move(scope, self._store(scope.name))

    async def close(self) -> None:
        """Commit and close the persistent stores (their contexts are read again at the
        next start); memory contexts stay with the engine."""
        stores, self.stores = list(self.stores.values()), {}
        for name in [name for name, scope in self._scopes.items() if scope.persistent]:
            del self._scopes[name]
        for store in stores:
            await store.close()

    async def flush(self) -> None:
        """Commit what the persistent stores have pending now, and wait for it."""
        for store in list(self.stores.values()):
            await store.flush()

    # --- the parts -------------------------------------------------------------------
    async def _open(self, directory: Path) -> None:
        store = PersistentStore(directory / DATABASE, self.flush_interval)
        rows = await asyncio.to_thread(store.open)
        store.start()
        self.stores[directory] = store
        for name, texts in rows.items():
            if name in self._scopes:  # live values (or another file's rows) win
                store.drop(name)
                continue
            scope = self._scopes[name] = Scope(name, store)
            for key, text in texts.items():
                try:
                    scope.data[key] = json.loads(text)
                except ValueError:
                    log.warning("context store %s: the value of %s key %r is not JSON; "
                                "it is left out", store.path, name, key)

    def _learn(self, flow: Flow) -> None:
        """Which tab owns which scope, and the flow context of each node: a node inside
        a subflow instance has the instance's (Node-RED's), whose $parent is the flow
        context of what the instance is used in."""
        instances = {instance.id for instance in flow.instances}
        tab_of: dict[str, str] = {}
        self._flow_of, self._parent = {}, {}
        for spec in flow.nodes:
            tab = spec.tab or flow.file
            parent = f"flow:{tab_key(tab)}"
            tab_of[f"node:{spec.id}"] = tab_of[parent] = tab
            steps = spec.instance.split("/") if spec.instance else []
            for depth in range(1, len(steps) + 1):
                instance = "/".join(steps[:depth])
                if instance in instances:
                    name = f"subflow:{instance}"
                    tab_of[name], self._parent[name], parent = tab, parent, name
            self._flow_of[spec.id] = parent
        self._tab_of = tab_of

    def _flow_view(self, name: str, node_id: str) -> Context:
        parent = self._parent.get(name)
        return Context(self._scope(name), node_id, "flow",
                       None if parent is None else self._flow_view(parent, node_id))

    def _scope(self, name: str) -> Scope:
        scope = self._scopes.get(name)
        if scope is None:
            scope = self._scopes[name] = Scope(name, self._store(name))
        return scope

    def _store(self, name: str) -> PersistentStore | None:
        """The store a scope belongs in now (None: memory)."""
        if name == GLOBAL:
            tab = None
            chosen = self.global_store
        elif (tab := self._tab_of.get(name)) is not None:
            chosen = self._store_of.get(tab, "memory")
        else:
            return None
        return self.stores.get(self._directory(tab)) if chosen == "persistent" else None

    def _known(self, name: str) -> bool:
        return name == GLOBAL or name in self._tab_of

    def _move(self, scope: Scope, store: PersistentStore | None) -> None:
        """Keep a scope's values in another store (its tab chose another one, or the
        node moved to another file)."""
        if store is scope.persistent:
            return
        if scope.persistent is not None:
            scope.persistent.drop(scope.name)
        scope.persistent = store
        if store is None:
            return
        store.drop(scope.name)  # rows left from an earlier run must not come back
        for key, value in list(scope.data.items()):
            try:
                text = encode(value)
                store.put(scope.name, key, text)
            except ValueError as exc:
                log.warning("%s context: key %r is not kept in the persistent store: "
                            "the value %s", scope.name, key, exc)
                del scope.data[key]
            else:
                scope.data[key] = json.loads(text)


def tab_key(tab: str) -> str:
    """A tab's name in the store: a flow file by its resolved path, so the same file
    named another way (relative, through a link) finds its flow context again."""
    return os.path.realpath(tab) if os.path.isfile(tab) else tab
