"""File stamps and the poller behind --reload and the editor's "changed on disk"."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from portless.runtime.file_watch import file_stamp, watch_files


def test_a_stamp_changes_with_a_write_and_a_rename_over(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    assert file_stamp(path) is None
    path.write_text("{}")
    first = file_stamp(path)
    other = tmp_path / "other.json"
    other.write_text("{}")
    os.replace(other, path)  # same size, maybe the same mtime: a new inode
    assert file_stamp(path) != first


async def test_the_watch_reports_each_changed_file_and_a_change_before_it_began(
        tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("1")
    b.write_text("1")
    before = file_stamp(a)
    a.write_text("22")  # after the caller's last look, before the watch starts
    changed: asyncio.Queue[Path] = asyncio.Queue()

    async def record(path: Path) -> None:
        await changed.put(path)

    watch = asyncio.create_task(watch_files(lambda: (a, b), record, 0.01, since={a: before}))
    try:
        assert await asyncio.wait_for(changed.get(), 5) == a
        b.write_text("333")
        assert await asyncio.wait_for(changed.get(), 5) == b
    finally:
        watch.cancel()
