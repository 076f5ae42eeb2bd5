"""The durable outbox: committed in batches, kept across a crash, bounded with a policy,
and never losing a message it accepted."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from portless.nodes.mqtt.outbox import FLUSH_MESSAGES, BrokerIdentity, Outbox, OutboxError
from portless.testing import FlowHarness
from tests.conftest import require_program
from tests.mosquitto import Mosquitto, free_port
from tests.mqtt_client import Watcher

TOPIC = "device/valve-1/flow"


def outbox(path: Path, problems: list[str] | None = None, **options: object) -> Outbox:
    settings: dict[str, object] = {"max_messages": 1000, "max_bytes": 1_000_000,
                                   "flush_interval": 0, **options}
    sink = problems if problems is not None else []
    return Outbox(path / "outbox.sqlite3", on_problem=sink.append,
                  **settings)  # type: ignore[arg-type]


def rows(path: Path) -> list[bytes]:
    with sqlite3.connect(path / "outbox.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT payload FROM outbox ORDER BY seq")]


def databases(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("outbox*.sqlite3"))


async def turn() -> None:
    """Let the event loop run the outbox's end-of-turn commit (flush_interval 0)."""
    await asyncio.sleep(0)


async def acks_committed(box: Outbox) -> None:
    """Wait until the outbox committed its acknowledgements (they wait up to the flush
    interval)."""
    async with asyncio.timeout(5):
        while box._acked:  # noqa: ASYNC110 - the outbox's own timer commits them; no event
            await asyncio.sleep(0.005)


async def test_messages_added_in_one_turn_commit_together_and_survive_a_crash(
        tmp_path: Path) -> None:
    box = outbox(tmp_path)
    for value in range(5):
        assert box.add("device/valve-1/flow", str(value).encode(), 1, False, {})
    assert rows(tmp_path) == []  # not accepted until the turn's commit
    await turn()
    assert rows(tmp_path) == [b"0", b"1", b"2", b"3", b"4"]
    # No close(): as after SIGKILL. A new outbox on the same file has everything, in order.
    again = outbox(tmp_path)
    records = again.read(0, 100)
    assert [r.payload for r in records] == [b"0", b"1", b"2", b"3", b"4"]
    assert again.count == 5
    assert again.ready.is_set()
    assert records[0].properties == {}


async def test_read_pages_in_order_and_acked_messages_are_deleted(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    for value in range(10):
        box.add("t", bytes([value]), 1, True, {"content_type": "application/octet-stream"})
    await turn()
    first = box.read(0, 4)
    second = box.read(first[-1].seq, 4)
    assert [r.payload[0] for r in first + second] == list(range(8))
    assert first[0].retain
    assert first[0].properties == {"content_type": "application/octet-stream"}
    for record in first:
        box.sending(record)
        box.acked(record)
    assert [p[0] for p in rows(tmp_path)] == list(range(10))  # deleted a little later
    await acks_committed(box)
    assert box.count == 6
    assert [p[0] for p in rows(tmp_path)] == list(range(4, 10))


async def test_acks_out_of_order_and_with_gaps_delete_exactly_the_acked_rows(
        tmp_path: Path) -> None:
    """Acknowledged rows are deleted by runs of seqs: a row between two acknowledged
    ones that is itself unacknowledged stays, and is sent again after a reconnect."""
    box = outbox(tmp_path)
    for value in range(12):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    records = box.read(0, 12)
    for record in records:
        box.sending(record)
    for index in (7, 0, 1, 2, 4, 8, 6, 11):
        box.acked(records[index])
    box.connection_lost()
    assert [p[0] for p in rows(tmp_path)] == [3, 5, 9, 10]
    assert read_all(box) == [3, 5, 9, 10]


async def test_an_ack_after_the_connection_was_lost_is_ignored(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    box.add("t", b"x", 1, False, {})
    await turn()
    (record,) = box.read(0, 1)
    box.sending(record)
    box.connection_lost()
    box.acked(record)  # a stale acknowledgement must not delete what will be resent
    await turn()
    assert rows(tmp_path) == [b"x"]


async def test_a_connected_sender_gets_a_message_before_its_commit_and_an_early_ack_writes_nothing(
        tmp_path: Path) -> None:
    """The commit batches writes (flash wear) without delaying delivery: a reading sender
    gets a new message at once, and one acknowledged before its batch commits is never
    written at all."""
    box = outbox(tmp_path, flush_interval=1.0)
    assert box.read(0, 10) == []  # a sender is reading: connected, nothing waiting
    box.add("t", b"now", 1, True, {"content_type": "text/plain"})
    (record,) = box.read(0, 10)  # at once, not after the flush interval
    assert (record.payload, record.retain, record.properties) == \
        (b"now", True, {"content_type": "text/plain"})
    assert rows(tmp_path) == []
    assert box.sending(record)
    box.acked(record)
    box.flush()
    assert rows(tmp_path) == []
    assert box.count == box.bytes == 0
    with closing(sqlite3.connect(tmp_path / "outbox.sqlite3")) as db:  # no row ever written
        assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchall() \
            in ([], [(0,)])


async def test_a_message_sent_before_its_commit_but_not_acknowledged_is_kept_and_resent(
        tmp_path: Path) -> None:
    box = outbox(tmp_path, flush_interval=1.0)
    box.read(0, 10)
    box.add("t", b"a", 1, False, {})
    box.add("t", b"b", 1, False, {})
    first, second = box.read(0, 10)
    box.sending(first)
    box.sending(second)
    box.acked(first)
    box.connection_lost()  # b went out, unacknowledged: committed now, sent again later
    assert rows(tmp_path) == [b"b"]
    assert read_all(box) == [ord("b")]


async def test_seqs_go_on_after_a_restart_so_order_holds(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    for value in range(3):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    before = box.read(0, 10)
    for record in before:
        box.sending(record)
        box.acked(record)
    await box.close()  # every row deleted: only the table's sequence remembers the seqs
    again = outbox(tmp_path)
    again.add("t", b"\x09", 1, False, {})
    await turn()
    (record,) = again.read(0, 10)
    assert record.seq > before[-1].seq
    await again.close()


def read_all(box: Outbox, after_seq: int = 0, page: int = 3) -> list[int]:
    """Every payload byte ``read`` gives a sender reading from ``after_seq``, page by page."""
    seen: list[int] = []
    while batch := box.read(after_seq, page):
        seen += [record.payload[0] for record in batch]
        after_seq = batch[-1].seq
    return seen


async def test_what_read_serves_from_memory_is_what_the_table_holds(tmp_path: Path) -> None:
    """Just-committed messages come from memory, not a SELECT (READ_AHEAD); a sender that
    reads from the start again after a lost connection, or after messages were dropped
    to make room, still gets exactly the table: nothing acknowledged, dropped or twice."""
    box = outbox(tmp_path)
    for value in range(10):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    first = box.read(0, 4)
    for record in first:
        box.sending(record)
    for record in first[:2]:
        box.acked(record)
    box.connection_lost()  # 2 and 3 were sent, not acknowledged: they are sent again
    for value in range(10, 12):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    assert read_all(box) == list(range(2, 12)) == [p[0] for p in rows(tmp_path)]
    full = outbox(tmp_path / "full", max_messages=10)
    for value in range(15):  # beyond max_messages, before any read: the oldest go
        full.add("t", bytes([value]), 1, False, {})
        await turn()
    assert full.dropped > 0
    assert read_all(full) == [p[0] for p in rows(tmp_path / "full")]


async def test_full_outbox_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    problems: list[str] = []
    box = outbox(tmp_path, problems, max_messages=100)
    for value in range(150):
        box.add("t", str(value).encode(), 1, False, {})
        await turn()
    kept = [int(p) for p in rows(tmp_path)]
    assert kept == list(range(150 - len(kept), 150))  # the newest, in order
    assert 99 <= len(kept) <= 100
    assert box.dropped == 150 - len(kept)
    assert box.count == len(kept)
    assert "policy drop-oldest" in problems[0]


async def test_full_outbox_never_drops_what_is_in_flight(tmp_path: Path) -> None:
    box = outbox(tmp_path, max_messages=10)
    for value in range(10):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    in_flight = box.read(0, 3)
    for record in in_flight:
        box.sending(record)
    box.add("t", bytes([10]), 1, False, {})
    await turn()
    left = [p[0] for p in rows(tmp_path)]
    assert left[:3] == [0, 1, 2]
    assert 3 not in left
    assert left[-1] == 10


async def test_refuse_new_keeps_the_first_messages(tmp_path: Path) -> None:
    problems: list[str] = []
    box = outbox(tmp_path, problems, max_messages=100, policy="refuse-new")
    accepted = [box.add("t", str(v).encode(), 1, False, {}) for v in range(150)]
    await turn()
    assert accepted == [True] * 100 + [False] * 50
    assert [int(p) for p in rows(tmp_path)] == list(range(100))
    assert box.refused == 50
    assert "refused the new message" in problems[0]


async def test_byte_bound_and_a_message_larger_than_the_outbox(tmp_path: Path) -> None:
    problems: list[str] = []
    box = outbox(tmp_path, problems, max_bytes=2000)
    assert not box.add("t", b"x" * 5000, 1, False, {})
    assert "larger than the whole outbox" in problems[0]
    for value in range(30):
        box.add("t", bytes([value]) * 99, 1, False, {})  # 100 bytes with the topic
        await turn()
    assert box.bytes <= 2000
    assert box.bytes == sum(len(p) + 1 for p in rows(tmp_path))


async def test_a_full_disk_refuses_the_batch_and_says_so(tmp_path: Path) -> None:
    problems: list[str] = []
    box = outbox(tmp_path, problems)
    box.add("t", b"kept", 1, False, {})
    await turn()
    # sqlite's own limit on the file's size: the same SQLITE_FULL a full disk gives.
    box._db.execute("PRAGMA max_page_count = 8")
    for _ in range(50):
        box.add("t", b"x" * 4000, 1, False, {})
    await turn()
    assert "database or disk is full" in problems[-1]
    assert box.refused == 50
    assert box.count == 1
    assert rows(tmp_path) == [b"kept"]  # nothing half-written


def test_an_outbox_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "outbox.sqlite3").write_text("this is not a database")
    with pytest.raises(OutboxError, match=r"cannot open the outbox .*outbox.sqlite3"):
        outbox(tmp_path)


async def test_a_message_dropped_after_it_was_read_is_not_sent(tmp_path: Path) -> None:
    box = outbox(tmp_path, max_messages=10)
    for value in range(10):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    page = box.read(0, 10)  # the sender holds this page...
    box.add("t", bytes([10]), 1, False, {})  # ...when room is made for a new message
    await turn()
    sent = [record.payload[0] for record in page if box.sending(record)]
    assert sent == [p[0] for p in rows(tmp_path) if p[0] < 10]
    for record in page:
        box.acked(record)
    await acks_committed(box)
    assert box.count == len(rows(tmp_path)) == 1


async def test_messages_wait_for_the_flush_interval_and_commit_together(
        tmp_path: Path) -> None:
    box = outbox(tmp_path, flush_interval=0.05)
    for value in range(5):
        box.add("t", bytes([value]), 1, False, {})
    await turn()
    await turn()
    assert rows(tmp_path) == []  # not yet accepted: within the flush interval
    async with asyncio.timeout(1):
        await box.ready.wait()  # set by the commit
    assert [p[0] for p in rows(tmp_path)] == list(range(5))


async def test_a_full_batch_commits_without_waiting_for_the_interval(tmp_path: Path) -> None:
    box = outbox(tmp_path, flush_interval=1.0)
    for value in range(FLUSH_MESSAGES):
        box.add("t", str(value).encode(), 1, False, {})
    await turn()
    assert len(rows(tmp_path)) == FLUSH_MESSAGES


async def test_acknowledged_deletes_commit_even_when_new_messages_do_not_fit(
        tmp_path: Path) -> None:
    problems: list[str] = []
    box = outbox(tmp_path, problems)
    for value in range(20):
        box.add("t", bytes([value]) * 100, 1, False, {})
    await turn()
    for record in box.read(0, 10):
        box.sending(record)
        box.acked(record)
    # No page more for the file (the SQLITE_FULL of a full disk), and in the same batch
    # as the acknowledgements, new messages that cannot fit.
    (pages,) = box._db.execute("PRAGMA page_count").fetchone()
    box._db.execute(f"PRAGMA max_page_count = {pages}")
    for _ in range(50):
        box.add("t", b"x" * 4000, 1, False, {})
    box.flush()
    assert [p[0] for p in rows(tmp_path)] == list(range(10, 20))  # the deletes went through
    assert box.count == 10
    assert "database or disk is full" in problems[-1]


async def test_the_event_loop_runs_while_the_outbox_checkpoints_and_closes(
        tmp_path: Path) -> None:
    box = outbox(tmp_path)
    box.add("t", b"kept", 1, False, {})
    closing = asyncio.create_task(box.close())
    ran_meanwhile = asyncio.Event()
    asyncio.get_running_loop().call_soon(
        lambda: ran_meanwhile.set() if not closing.done() else None)
    await closing
    assert ran_meanwhile.is_set()  # the fsyncs ran in the outbox's worker thread
    assert not (tmp_path / "outbox.sqlite3-wal").exists()  # checkpointed and closed
    assert rows(tmp_path) == [b"kept"]


# --- against a real mosquitto ----------------------------------------------------------

def device_flow(port: int, **broker: Any) -> dict[str, Any]:
    """mqtt-out at QoS 1 on a broker node with fast reconnects."""
    return {"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": port, "reconnect_min_delay": 0.05,
                    "reconnect_max_delay": 0.2, **broker}},
        {"id": "out", "type": "mqtt-out",
         "config": {"broker": "broker", "topic": TOPIC, "qos": 1}}]}


def broker_outbox(h: FlowHarness) -> Outbox:
    outbox: Outbox = h.engine.nodes["broker"].outbox  # type: ignore[attr-defined]
    return outbox


async def connected(h: FlowHarness, since: int = 0) -> None:
    await h.wait_event(lambda e: e.node_id == "broker" and e.kind == "status"
                       and e.data.get("text") == "connected", since=since, timeout=10)


async def until(h: FlowHarness, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Wait until ``condition()`` holds, checked at every event or message (or 5 ms)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await h.changed()


def numbers(watcher: Watcher) -> set[int]:
    return {json.loads(m.payload)["n"] for m in watcher.on(TOPIC)}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted at the end: a state disk that fills up."""
    require_program("/usr/bin/mount", "mount", "util-linux")
    path = tmp_path / "small-disk"
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        message = f"cannot mount a 2 MiB tmpfs (needs root): {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.broker
@pytest.mark.slow  # fills a small disk and waits out an outage
async def test_a_disk_that_fills_during_an_outage_loses_nothing_accepted_and_recovers(
        mosquitto: Mosquitto, small_disk: Path) -> None:
    padding = "x" * 100
    async with Watcher(mosquitto.port, TOPIC, client_id="operator", clean=False) as operator, \
            FlowHarness(device_flow(mosquitto.port), state_dir=small_disk) as h:
        await connected(h)
        outbox = broker_outbox(h)
        await asyncio.to_thread(mosquitto.stop)  # the operator's session is kept
        n = refused_before = 0
        while outbox.refused_for_disk - refused_before < 500:  # until all 500 are refused
            refused_before = outbox.refused_for_disk
            for _ in range(500):
                h.inject("out", {"payload": {"n": n, "pad": padding}})
                n += 1
            await h.engine.wait_idle()
            await asyncio.sleep(0.06)  # past the flush interval: this round is decided
        outbox.flush()
        database = small_disk / "broker" / "outbox.sqlite3"
        with closing(sqlite3.connect(database)) as db:
            accepted = {json.loads(p)["n"] for (p,) in db.execute("SELECT payload FROM outbox")}
        # Small pages and a bounded WAL: most of the disk holds messages (before, the WAL
        # alone took megabytes: 293 messages fitted on 1 MiB), and the reserve is kept.
        assert len(accepted) * 136 > 1024 * 1024  # 136 bytes of topic and payload each
        assert (database.parent / "outbox.sqlite3-wal").stat().st_size <= 512 * 1024
        assert shutil.disk_usage(small_disk).free >= outbox.disk.reserve // 2
        assert len(accepted) + outbox.refused == n  # every message accepted or refused
        warnings = [e.data["text"] for e in h.events if e.kind == "warning"]
        assert any("is nearly full" in text for text in warnings)
        await h.wait_event(lambda e: e.node_id == "out" and e.kind == "status" and e.data[
            "text"].endswith(f"{outbox.refused_for_disk} refused (disk nearly full)"))

        start = len(h.events)
        await asyncio.to_thread(mosquitto.start)
        await connected(h, start)
        # None lost. (The drain rate is measured by `python -m bench mqtt`, "outbox drain"; here
        # a loaded machine may take its time, which once passed a 10 s bound.)
        await until(h, lambda: numbers(operator) >= accepted, timeout=60)
        await until(h, lambda: outbox.count == 0)
        refused = outbox.refused
        for m in range(n, n + 100):  # accepted again after the drain
            h.inject("out", {"payload": {"n": m, "pad": padding}})
        await until(h, lambda: set(range(n, n + 100)) <= numbers(operator))
    assert outbox.refused == refused


@pytest.mark.broker
async def test_an_undecodable_row_is_quarantined_and_delivery_goes_on(
        mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "state"
    mosquitto.stop()
    async with FlowHarness(device_flow(mosquitto.port), state_dir=state) as h:
        for n in range(3):
            h.inject("out", {"payload": {"n": n}})
        await h.engine.wait_idle()
    database = state / "broker" / "outbox.sqlite3"
    with closing(sqlite3.connect(database)) as db, db:
        (bad_seq,) = db.execute("SELECT seq FROM outbox ORDER BY seq LIMIT 1 OFFSET 1"
                                ).fetchone()
        db.execute("UPDATE outbox SET properties = x'c1' WHERE seq = ?", (bad_seq,))
    mosquitto.start()
    async with Watcher(mosquitto.port, TOPIC) as watcher, \
            FlowHarness(device_flow(mosquitto.port), state_dir=state) as h:
        await until(h, lambda: numbers(watcher) == {0, 2})
        h.inject("out", {"payload": {"n": 3}})  # and new messages after it, too
        await until(h, lambda: numbers(watcher) == {0, 2, 3})
        outbox = broker_outbox(h)
        await until(h, lambda: outbox.count == 0)
        assert outbox.quarantined == 1
    with closing(sqlite3.connect(database)) as db:
        kept = db.execute("SELECT seq, payload, reason FROM outbox_quarantine").fetchall()
    assert kept == [(bad_seq, b'{"n":1}', "FormatError")]
    warning = f"outbox row {bad_seq} cannot be decoded (FormatError); moved to the table " \
              f"outbox_quarantine of {database}"
    assert any(warning in record.getMessage() for record in caplog.records)


@pytest.mark.broker
async def test_messages_queued_for_one_broker_never_go_to_the_next_and_are_kept_aside(
        mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "state"
    first, second = mosquitto_factory("a"), mosquitto_factory("b")
    first.stop()
    async with FlowHarness(device_flow(first.port), state_dir=state) as h:  # A is down
        for n in range(5):
            h.inject("out", {"payload": {"n": n}})
        await h.engine.wait_idle()
    async with Watcher(second.port, TOPIC) as on_second, \
            FlowHarness(device_flow(second.port), state_dir=state) as h:  # the flow moved
        h.inject("out", {"payload": {"n": 100}})
        await until(h, lambda: numbers(on_second) == {100})
        await until(h, lambda: broker_outbox(h).count == 0)
    assert numbers(on_second) == {100}  # A's five would have gone first: in order
    client_id = f"portless-{socket.gethostname()}-broker"
    aside = state / "broker" / f"outbox-127.0.0.1-{first.port}-{client_id}.sqlite3"
    with closing(sqlite3.connect(aside)) as db:
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone() == (5,)
    assert (f"the 5 message(s) queued for 127.0.0.1:{first.port} as {client_id} were not "
            f"sent to the new broker and are kept in {aside}") in caplog.text

    first.start()  # back to A: its messages are taken back and go where they belong
    async with Watcher(first.port, TOPIC) as on_first, \
            FlowHarness(device_flow(first.port), state_dir=state) as h:
        await until(h, lambda: numbers(on_first) == set(range(5)))
    assert not aside.exists()


async def test_a_full_batch_is_committed_while_a_checkpoint_runs_not_held_in_memory(
        tmp_path: Path) -> None:
    box = outbox(tmp_path, flush_interval=0.05, max_messages=10_000)
    release = threading.Event()
    box._checkpointer.worker.submit(release.wait, 10)  # its disk thread is busy (a slow fsync)
    try:
        for value in range(2 * FLUSH_MESSAGES):  # enough to start a checkpoint, which waits
            box.add("t", str(value).encode() * 20, 1, False, {})
        await turn()
        for _ in range(FLUSH_MESSAGES):  # a full batch more: committed, not kept waiting
            box.add("t", b"more", 1, False, {})
        await turn()
        assert len(rows(tmp_path)) == 3 * FLUSH_MESSAGES
        box.add("t", b"last", 1, False, {})  # a small one waits for the checkpoint...
        await asyncio.sleep(0.1)
        assert len(rows(tmp_path)) == 3 * FLUSH_MESSAGES
    finally:
        release.set()
    async with asyncio.timeout(5):  # ...and is committed once it is done
        while len(rows(tmp_path)) < 3 * FLUSH_MESSAGES + 1:  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.01)
    await box.close()


async def test_a_database_that_records_no_broker_is_adopted_with_its_messages(
        tmp_path: Path) -> None:
    """How databases made before outboxes were keyed, or one whose broker row was deleted
    to send its messages to another broker (docs/mqtt.md), are taken over."""
    before = outbox(tmp_path)
    before.add("t", b"queued earlier", 1, False, {})
    await before.close()
    box = outbox(tmp_path, broker=BrokerIdentity("broker.plant.example", 8883, "valve-1"))
    assert [r.payload for r in box.read(0, 10)] == [b"queued earlier"]
    assert databases(tmp_path) == ["outbox.sqlite3"]  # nothing set aside
    await box.close()


async def test_the_broker_node_commits_at_its_configured_flush_interval(
        tmp_path: Path) -> None:
    port = free_port()  # nothing listens: messages wait in the outbox
    document = device_flow(port, outbox_flush_interval=0)
    async with FlowHarness(document, state_dir=tmp_path) as h:
        h.inject("out", {"payload": {"n": 1}})
        await h.engine.wait_idle()
        await turn()  # 0: committed at the end of the event-loop turn
        assert len(rows(tmp_path / "broker")) == 1
        assert broker_outbox(h).flush_interval == 0
