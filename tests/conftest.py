"""Shared fixtures: a flow-file writer."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mosquitto import MOSQUITTO, Mosquitto


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[..., Path]:
    """Write a flow document (or raw text) to a file and return its path."""
    def write(content: dict[str, Any] | str, name: str = "flow.json") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2),
                        encoding="utf-8")
        return path
    return write


def require_program(path: str, name: str, install: str) -> None:
    """Skip a test whose program is missing on a developer's machine; fail it in CI,
    where .ci/run installs it, so a missing install never passes as a skip."""
    if Path(path).exists() or shutil.which(name):
        return
    message = f"{name} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Make (and at the end stop, by PID) real mosquitto brokers on free 127.0.0.1 ports."""
    require_program(MOSQUITTO, "mosquitto", "sudo apt install mosquitto mosquitto-clients")
    made: list[Mosquitto] = []

    def make(name: str = "broker", **options: Any) -> Mosquitto:
        broker = Mosquitto(tmp_path / name, **options)
        made.append(broker)
        broker.start()
        return broker

    yield make
    for broker in made:
        broker.kill()


@pytest.fixture
def mosquitto(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """A plain mosquitto (anonymous, persistence on) on a free 127.0.0.1 port."""
    return mosquitto_factory()
