"""The shipped systemd unit (docs/portless.service): systemd itself accepts every line of
it, and it runs portless as the promise needs: headless, no bind() to any port, only the
state directory writable. The kernel's enforcement (SocketBindDeny= is a cgroup BPF hook)
needs systemd as PID 1, which the test machine's container does not have: that part is
the unit's word, checked here only as far as systemd-analyze checks it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portless.cli import build_parser

UNIT = Path(__file__).parents[1] / "docs" / "portless.service"


def settings(text: str) -> dict[str, list[str]]:
    """Every Key=value of the [Service] section, values in order."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_systemd_accepts_every_line_of_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # .ci/run installs systemd; a bare container may lack it
        pytest.skip("systemd-analyze is not installed")
    portless = Path(sys.executable).with_name("portless")  # the unit's binary, here
    unit = tmp_path / "portless.service"
    unit.write_text(UNIT.read_text().replace("/opt/portless/bin/portless", str(portless)))
    checked = subprocess.run([analyze, "verify", str(unit)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert (checked.returncode, checked.stderr, checked.stdout) == (0, "", "")


def test_the_unit_runs_portless_headless_with_no_port_and_only_its_state_writable() -> None:
    service = settings(UNIT.read_text())
    command = shlex.split(service["ExecStart"][0])
    assert command[:2] == ["/opt/portless/bin/portless", "run"]
    args = build_parser().parse_args(command[1:])
    assert (args.no_editor, args.fleet) == (True, Path("/etc/portless/device.json"))
    assert (service["SocketBindDeny"], service.get("SocketBindAllow")) == (["any"], None)
    assert service["User"] != ["root"]
    assert [service[key] for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome")] \
        == [["yes"], ["strict"], ["yes"]]
    writable = [Path(path) for path in service["ReadWritePaths"][0].split()]
    state = [Path("/var/lib", name) for name in service["StateDirectory"][0].split()]
    for written in (*map(Path, args.flow), args.state_dir, *state):
        assert any(written.is_relative_to(place) for place in writable), written
