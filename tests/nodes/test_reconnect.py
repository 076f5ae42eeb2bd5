"""Backoff (nodes/reconnect.py): the delays every connection node retries with."""

from __future__ import annotations

import asyncio

from portless.nodes.reconnect import Backoff


def test_the_delay_doubles_from_the_first_up_to_the_cap() -> None:
    backoff = Backoff(0.5, 30)
    assert [backoff.step() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_a_first_delay_above_the_cap_is_waited_once_then_the_cap() -> None:
    backoff = Backoff(5, 2)  # mqtt-broker does not forbid it
    assert [backoff.step() for _ in range(3)] == [5, 2, 2]


def test_each_wait_is_half_the_delay_and_up_to_half_again_at_random() -> None:
    backoff = Backoff(1, 8)
    for delay in (1, 2, 4, 8, 8):
        wait = backoff.next_wait()
        assert delay / 2 <= wait <= delay
    waits: list[float] = []
    for _ in range(200):
        backoff.reset()
        waits.append(backoff.next_wait())
    assert min(waits) < 0.6  # spread over [0.5, 1], not one value
    assert max(waits) > 0.9


def test_reset_and_a_long_link_start_again_from_the_first_delay() -> None:
    backoff = Backoff(0.5, 30)
    for _ in range(4):
        backoff.step()
    backoff.link_lasted(29.9)  # shorter than the cap: not a good link
    assert backoff.delay == 8
    backoff.link_lasted(30)
    assert backoff.step() == 0.5
    backoff.step()
    backoff.reset()
    assert backoff.step() == 0.5


async def test_wait_sleeps_the_jittered_delay_then_doubles_it() -> None:
    backoff = Backoff(0.04, 1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await backoff.wait()
    assert loop.time() - started >= 0.02
    assert backoff.delay == 0.08
