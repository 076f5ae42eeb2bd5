"""The deploy service: check -> write atomically -> deploy what changed -> report, one
deploy at a time, for every caller (the editor, a watch of the flow files on disk,
remote management), so none of them has a deploy of its own.

Each flow file the process runs is a tab; the engine runs them together. When a
deploy's nodes fail to start, the service rolls back to the flow that ran before
(unless told not to): the file it wrote is put back as it ran, so the file on disk and
what runs agree; a file changed by someone else (a `git pull` seen by ``--reload``) is
left alone, and the log and the outcome say that it is not what runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from .atomic import atomic_delete, atomic_write
from .canonical import canonical_text
from .engine import DeployReport, Engine
from .errors import FlowError, FlowInvalid
from .file_watch import Stamp, file_stamp, watch_files
from .flow import Flow, check_flow, parse_flow, read_flow
from .registry import Registry
from .state import StateDirs
from .subflow_files import SubflowLibrary, with_subflow
from .tabs import check_tabs, load_tabs, referring_nodes, run_together

log = logging.getLogger("portless.deploy")
T = TypeVar("T")
CHECK_SECONDS = 30.0
"""The longest a deploy may spend checking a flow before it is refused."""

FileState = Literal["written", "read", "restored", "kept", "deleted"]
"""What became of the tab's file: the new text written (``written``) or read from disk
(``read``), and both running; or the deploy rolled back and the file was put back as it
runs (``restored``), or left as someone else changed it (``kept``: it is not what runs
until its next change); or the tab and its file are gone (``deleted``)."""


@dataclass(frozen=True)
class Gate:
    """A caller's own checks, run in the deploy's worker thread under its lock (the
    editor's ETag and secrets, say): each may raise to refuse the deploy."""

    before_check: Callable[[dict[str, Any]], None] = lambda document: None
    after_check: Callable[[Flow], None] = lambda flow: None
    before_write: Callable[[str], None] = lambda text: None
    """Given the canonical text about to be written."""


@dataclass(frozen=True)
class DeployOutcome:
    """What a deploy of one tab did: its report, and the rollback's when there was one."""

    tab: Path
    report: DeployReport
    file: FileState
    rollback: DeployReport | None = None
    """The report of putting back the flow that ran before, or None (no rollback)."""
    caused: dict[str, str] = field(default_factory=dict)
    """The nodes whose failed start made the deploy roll back, with the reason."""

    def sentence(self) -> str:
        """One line for the log and the editor: what runs now, and why."""
        report = self.rollback or self.report
        counts = (f"{len(report.stopped)} stopped, {len(report.started)} started, "
                  f"{len(report.failed)} failed, {len(report.unchanged)} unchanged")
        if self.rollback is None:
            return f"{self.tab}: deployed ({counts})"
        which = "; ".join(f"{node_id}: {reason}" for node_id, reason in self.caused.items())
        file = ("the file is back as it runs" if self.file == "restored" else
                "the file on disk is not what runs until it changes again")
        return (f"{self.tab}: rolled back to the flow that ran before, because "
                f"{len(self.caused)} node(s) failed to start ({which}); {file} ({counts})")


class DeployService:
    """Runs a set of flow files (tabs) on one engine and deploys changes to them."""

    def __init__(self, engine: Engine, registry: Registry, files: Sequence[str | Path], *,
                 rollback: bool = True, check_seconds: float = CHECK_SECONDS,
                 subflows: SubflowLibrary | None = None,
                 states: StateDirs | None = None) -> None:
        """``rollback``: put back the flow that ran before when a deploy's nodes fail
        to start (the default); False keeps them failed, as Node-RED does.
        ``subflows``: the subflow files, read again before a check when they changed
        (and watched by ``watch``). ``states``: the state directories to lock, one per
        tab (None: the engine's own)."""
        self.engine = engine
        self.states = states
        self.registry = registry
        self.subflows = subflows
        self.tabs = [Path(file) for file in files]
        self.rollback = rollback
        self.check_seconds = check_seconds
        self.lock = asyncio.Lock()
        """Held by every deploy: one at a time, whoever asks."""
        self.flows: dict[Path, Flow] = {}
        """Each tab's checked flow as it runs."""
        self.observers: list[Callable[[DeployOutcome], None]] = []
        """Told each deploy's outcome (the remote editor answers with the report)."""
        self.stamps: dict[Path, Stamp | None] = {}
        """Each tab's file stamp as this service last read or wrote it."""
        if engine.flow is not None and len(self.tabs) == 1:  # an engine started without it
            self.flows[self.tabs[0]] = engine.flow
            self.stamps[self.tabs[0]] = file_stamp(self.tabs[0])

    # --- loading -------------------------------------------------------------------
    def load(self) -> Flow:
        """Read and check every tab (before anything starts); raises FlowInvalid with
        the errors of all files. Returns the flow the engine will run."""
        for tab in self.tabs:
            self.stamps[tab] = file_stamp(tab)  # before reading: a change is seen later
        flows = load_tabs(self.tabs, self.registry)
        self.flows = flows
        return self.running()

    def claim_state(self) -> None:
        """Lock the process's state directory and each tab's (before anything starts:
        a second process running any of these files is refused); raises StateLocked."""
        if self.states is None:
            return
        self.engine.state_dir = self.states.acquire()
        for tab in self.tabs:
            self.engine.tab_state_dirs[str(tab)] = self.states.acquire(tab)

    async def start(self) -> DeployReport:
        """Start the loaded tabs on the engine."""
        return await self.engine.start(self.running())

    def running(self) -> Flow:
        """The flow of every tab together, as the engine runs it."""
        return run_together([self.flows[tab] for tab in self.tabs if tab in self.flows])

    # --- checking ------------------------------------------------------------------
    def check(self, tab: Path, document: dict[str, Any], resolve_env: bool = True) -> Flow:
        """Check one tab's new document as a deploy would, against the other tabs as
        they run (blocking: call in a thread)."""
        return self._check_all({tab: document}, resolve_env)[tab]

    def _check_all(self, documents: Mapping[Path, dict[str, Any]],
                   resolve_env: bool = True, registry: Registry | None = None
                   ) -> dict[Path, Flow]:
        """Check the documents with the node types (and subflow files) as they are now,
        or with ``registry``."""
        if registry is None and self.subflows is not None:
            self.subflows.refresh()
        return check_tabs(documents, self.registry if registry is None else registry,
                          resolve_env, others=self.flows)

    # --- deploying -----------------------------------------------------------------
    async def deploy(self, tab: Path, document: dict[str, Any], gate: Gate | None = None,
                     rollback: bool | None = None) -> DeployOutcome:
        """Check ``document`` as the tab's new flow, write it atomically in canonical
        form, deploy what changed. Raises FlowInvalid (or what ``gate`` raises), with
        nothing written and nothing changed in what runs. ``rollback``: this service's
        setting unless given (False when ``document`` is itself the way back)."""
        gate = gate or Gate()
        tab = self._known_tab(tab)
        async with self.lock:
            flow = await self._in_thread(self._gated_check, tab, document, gate)
            await asyncio.to_thread(self._write, tab, flow.document, gate)
            return await self._switch(tab, flow, gate, rollback)

    async def validate(self, tab: Path, document: dict[str, Any], gate: Gate | None = None
                       ) -> Flow:
        """Check ``document`` as ``deploy`` would, without the environment (``${NAME}``
        left as written) and without writing or deploying; raises FlowInvalid."""
        gate = gate or Gate()
        tab = self._known_tab(tab)
        return await self._in_thread(self._gated_check, tab, document, gate, False)

    def _gated_check(self, tab: Path, document: dict[str, Any], gate: Gate,
                     resolve_env: bool = True) -> Flow:
        gate.before_check(document)
        flow = self.check(tab, document, resolve_env)
        gate.after_check(flow)
        return flow

    async def reload(self, tab: Path) -> DeployOutcome | None:
        """Deploy what the tab's file holds now, if it changed since this service last
        read or wrote it (None if not). Raises FlowInvalid, with nothing changed."""
        tab = self._known_tab(tab)
        async with self.lock:
            stamp = file_stamp(tab)  # before reading: a change meanwhile is seen next time
            if stamp == self.stamps.get(tab):
                return None
            self.stamps[tab] = stamp
            flow = await self._in_thread(lambda: self.check(tab, read_flow(tab)))
            return await self._switch(tab, flow, None)

    # --- adding and deleting tabs ---------------------------------------------------
    async def add_tab(self, tab: Path, name: str = "") -> DeployOutcome:
        """A new, empty tab in a new file ``tab`` (refused if the file exists), written
        atomically, run from now on. ``name``: its label (the document's "name")."""
        async with self.lock:
            if tab in self.tabs:
                raise FileExistsError(f"{tab} exists already")
            document: dict[str, Any] = {"version": 1, **({"name": name} if name else {}),
                                        "nodes": []}
            flow = await self._in_thread(self.check, tab, document)
            await asyncio.to_thread(self._write, tab, document, Gate(), True)
            if self.states is not None:
                try:
                    self.engine.tab_state_dirs[str(tab)] = self.states.acquire(tab)
                except BaseException:
                    await asyncio.to_thread(atomic_delete, tab)
                    raise
            self.tabs.append(tab)
            return await self._switch(tab, flow, Gate())

    async def delete_tab(self, tab: Path, gate: Gate | None = None) -> DeployOutcome:
        """Stop a tab's nodes and delete its file; refused (FlowInvalid, nothing
        changed) while a node in another tab refers to a connection in it, or if it is
        the last tab. Its state directory stays (an outbox may hold messages)."""
        tab = self._known_tab(tab)
        async with self.lock:
            (gate or Gate()).before_check(self.flows[tab].document)
            self._refuse_delete(tab)
            await asyncio.to_thread(atomic_delete, tab)
            self.tabs.remove(tab)
            del self.flows[tab]
            self.stamps.pop(tab, None)
            report = await self.engine.deploy(self.running())
            self.engine.tab_state_dirs.pop(str(tab), None)
            if self.states is not None:
                self.states.release(tab)
            outcome = DeployOutcome(tab, report, "deleted")
            log.info("%s: deleted (%d stopped)", tab, len(report.stopped))
            return outcome

    def _refuse_delete(self, tab: Path) -> None:
        if len(self.tabs) == 1:
            raise FlowInvalid([FlowError(str(tab), "the only flow file of this process "
                                                   "cannot be deleted")])
        errors = [FlowError(str(other), f"refers to '{ref}' in {tab}: move the connection "
                                        f"into another file, or change this node, before "
                                        f"deleting {tab}", node_id)
                  for other, node_id, ref in referring_nodes(tab, self.flows)]
        if errors:
            raise FlowInvalid(errors)

    async def watch(self) -> None:
        """Deploy each valid change of a tab's file on disk until cancelled (``portless
        run --reload``, for a `git pull`); an invalid one is logged, each error naming
        the file, node and field, and what runs is left as it is."""
        subflows = self.subflows.files if self.subflows is not None else list
        await watch_files(lambda: [*self.tabs, *subflows()], self._reload_logged,
                          since=self.stamps)

    async def redeploy_all(self) -> list[DeployOutcome]:
        """Check every tab again as it runs (with the subflow files as they are now)
        and deploy those that now differ: the instances of a changed subflow restart.
        Raises FlowInvalid, with nothing changed."""
        async with self.lock:
            flows = await self._in_thread(lambda: self._check_all(
                {tab: self.flows[tab].document for tab in self.tabs if tab in self.flows}))
            return [await self._switch(tab, flow, None) for tab, flow in flows.items()
                    if flow.nodes != self.flows[tab].nodes]

    async def deploy_subflow(self, path: Path, document: dict[str, Any],
                             gate: Gate | None = None) -> list[DeployOutcome]:
        """Check a subflow file's new document (on its own, and every tab with it),
        write it atomically in canonical form, and deploy the tabs that now differ: the
        instances of it restart. Raises FlowInvalid (or what ``gate`` raises; its
        ``after_check`` sees each tab's new flow), with nothing written or changed.
        A tab whose new nodes fail to start rolls back as any deploy does; the subflow
        file stays written."""
        if self.subflows is None or path not in self.subflows.files():
            raise KeyError(f"{path} is not a subflow file this process reads")
        gate = gate or Gate()
        async with self.lock:
            flows, text = await self._in_thread(self._gated_subflow_check, path, document,
                                                gate)
            gate.before_write(text)
            await asyncio.to_thread(atomic_write, path, text.encode("utf-8"))
            self.subflows.refresh()
            return [await self._switch(tab, flow, None) for tab, flow in flows.items()
                    if tab in self.tabs and flow.nodes != self.flows[tab].nodes]

    def _gated_subflow_check(self, path: Path, document: dict[str, Any], gate: Gate
                             ) -> tuple[dict[Path, Flow], str]:
        """Each tab's flow with the new subflow, and the subflow's canonical text."""
        gate.before_check(document)
        text = canonical_text(document)
        flows = self._check_with(path, parse_flow(text, str(path)))  # as it will be read
        for flow in flows.values():
            gate.after_check(flow)
        return flows, text

    def _check_with(self, path: Path, document: dict[str, Any]) -> dict[Path, Flow]:
        """Every tab checked as if ``path`` held ``document`` (and that subflow on its
        own); raises FlowInvalid with the errors of all of them."""
        trial = with_subflow(self.registry, path, document)
        errors: list[FlowError] = []
        flows: dict[Path, Flow] = {}
        try:
            check_flow(document, trial, str(path))
        except FlowInvalid as exc:
            errors.extend(exc.errors)
        try:
            flows = self._check_all({tab: self.flows[tab].document for tab in self.tabs
                                     if tab in self.flows}, registry=trial)
        except FlowInvalid as exc:
            errors.extend(exc.errors)
        if errors:
            raise FlowInvalid(errors)
        return flows

    async def _subflow_changed(self, path: Path) -> None:
        try:
            await self.redeploy_all()
        except FlowInvalid as exc:
            log.error("subflow file %s changed on disk, but the flows using it are not "
                      "valid with it, so what runs is unchanged (%d error(s) below)",
                      path, len(exc.errors))
            for error in exc.errors:
                log.error("%s", error)

    async def _reload_logged(self, tab: Path) -> None:
        if tab not in self.tabs:
            await self._subflow_changed(tab)
            return
        try:
            await self.reload(tab)
        except FlowInvalid as exc:
            if file_stamp(tab) != self.stamps.get(tab):
                return  # still being written (git writes in place): judged at the next poll
            log.error("%s changed on disk but is not a valid flow, so what runs is "
                      "unchanged (%d error(s) below)", tab, len(exc.errors))
            for error in exc.errors:
                log.error("%s", error)

    async def _switch(self, tab: Path, flow: Flow, wrote: Gate | None,
                      undo: bool | None = None) -> DeployOutcome:
        """Deploy the tabs with ``flow`` for ``tab``; roll back if its nodes fail (and
        ``undo``, by default this service's ``rollback``). ``wrote``: the gate of the
        write that put ``flow`` on disk (None: read from it)."""
        before = dict(self.flows)
        previous = self.engine.flow
        failing = dict(self.engine.failed)
        self.flows[tab] = flow
        running = self.running()
        report = await self.engine.deploy(running)
        caused = {node_id: reason for node_id, reason in report.failed.items()
                  if not _failed_before(node_id, failing, previous, running)}
        if undo is None:
            undo = self.rollback
        if not caused or not undo or previous is None or tab not in before:
            outcome = DeployOutcome(tab, report, "read" if wrote is None else "written")
            log.info("%s", outcome.sentence())
            return self._told(outcome)
        self.flows = before
        rollback = await self.engine.deploy(previous, rollback=True)
        if wrote is not None:
            await asyncio.to_thread(self._write, tab, before[tab].document, wrote)
        outcome = DeployOutcome(tab, report, "kept" if wrote is None else "restored",
                                rollback, caused)
        log.error("%s", outcome.sentence())
        return self._told(outcome)

    def _told(self, outcome: DeployOutcome) -> DeployOutcome:
        for observer in tuple(self.observers):
            observer(outcome)
        return outcome

    def _write(self, tab: Path, document: dict[str, Any], gate: Gate,
               new: bool = False) -> None:
        """Write a checked flow atomically in canonical form (in a worker thread);
        ``new``: refuse (FileExistsError) to replace a file."""
        text = canonical_text(document)
        gate.before_write(text)
        atomic_write(tab, text.encode("utf-8"), exclusive=new)
        self.stamps[tab] = file_stamp(tab)

    def _known_tab(self, tab: Path) -> Path:
        if tab not in self.tabs:
            raise KeyError(f"{tab} is not a flow file this process runs")
        return tab

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run a check in a worker thread, refused after ``check_seconds`` (the thread
        then finishes on its own; a check changes nothing, so nothing is half done)."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(function, *args),
                                          self.check_seconds)
        except TimeoutError:
            raise FlowInvalid([FlowError(
                "<request>", f"checking this flow took longer than "
                             f"{self.check_seconds:g} s; nothing was written")]) from None


def _failed_before(node_id: str, failing: Mapping[str, str], previous: Flow | None,
                   running: Flow) -> bool:
    """Did this node fail to start before, as it is now? Then the deploy did not cause
    it, and rolling back would not help."""
    if node_id not in failing or previous is None:
        return False
    old = next((spec for spec in previous.nodes if spec.id == node_id), None)
    return old is not None and old == running.spec(node_id)
