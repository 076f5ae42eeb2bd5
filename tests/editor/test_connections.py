"""The editor's connection bound: slow clients are pushed out for new ones, clients that
spoke are not, and running out of file descriptors drops the waiting connection with
one log line instead of asyncio's traceback a second (and no busy loop)."""

from __future__ import annotations

import logging
import os
import resource
import socket
from collections.abc import Iterator

import pytest

from portless.editor.connections import BoundedListener, ConnectionBound


@pytest.fixture
def listener() -> Iterator[BoundedListener]:
    plain = socket.create_server(("127.0.0.1", 0))
    wrapped = BoundedListener.wrap(plain, ConnectionBound(limit=2))
    wrapped.setblocking(False)
    try:
        yield wrapped
    finally:
        wrapped.close()


def connect(listener: socket.socket) -> socket.socket:
    client = socket.create_connection(listener.getsockname(), timeout=5)
    return client


def closed_by_server(client: socket.socket) -> bool:
    try:
        return client.recv(1) == b""
    except ConnectionResetError:
        return True


def test_at_the_bound_the_oldest_silent_connection_makes_room(
        listener: BoundedListener) -> None:
    clients = [connect(listener) for _ in range(3)]
    accepted = [listener.accept()[0] for _ in range(3)]
    try:
        assert closed_by_server(clients[0])  # the oldest, which never sent a request
        assert len(listener.bound.open) == 2
    finally:
        for sock in clients + accepted:
            sock.close()
    assert listener.bound.open == {}


def test_connections_that_spoke_are_kept_and_a_new_one_refused(
        listener: BoundedListener, caplog: pytest.LogCaptureFixture) -> None:
    clients = [connect(listener) for _ in range(2)]
    accepted = [listener.accept()[0] for _ in range(2)]
    for client in clients:
        listener.bound.spoke(client.getsockname())
    late = connect(listener)
    try:
        with pytest.raises(BlockingIOError):  # refused, then nothing more waiting
            listener.accept()
        assert closed_by_server(late)
        assert "every editor connection is in use" in caplog.text
    finally:
        for sock in [*clients, *accepted, late]:
            sock.close()


def test_out_of_file_descriptors_drops_the_connection_with_one_line(
        listener: BoundedListener, caplog: pytest.LogCaptureFixture) -> None:
    clients = [connect(listener) for _ in range(3)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.dup(0)  # a new descriptor takes the lowest free number
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))  # not one more
    try:
        with caplog.at_level(logging.WARNING, "portless.editor"):
            for _ in clients:
                with pytest.raises(BlockingIOError):
                    listener.accept()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        assert all(closed_by_server(client) for client in clients)
        assert caplog.text.count("out of file descriptors") == 1
        assert "Traceback" not in caplog.text
    finally:
        for client in clients:
            client.close()
