"""Key pairs: written safely, read strictly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portless.fleet import keys


def test_keygen_writes_a_private_key_for_its_owner_only_and_a_public_line(
        tmp_path: Path) -> None:
    trusted = keys.generate(tmp_path / "signing", "alice@plant")
    assert (tmp_path / "signing").stat().st_mode & 0o777 == 0o600
    line = (tmp_path / "signing.pub").read_text()
    assert line == trusted.line() + "\n"
    assert line.startswith("ed25519 ")
    assert line.endswith(" alice@plant\n")
    assert keys.load_trusted([tmp_path / "signing.pub"]) == {trusted.key_id: trusted}
    private = keys.load_private(tmp_path / "signing")
    assert keys.key_id(private.public_key()) == trusted.key_id


@pytest.mark.parametrize("existing", ["signing", "signing.pub"])
def test_keygen_never_overwrites_either_file(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("keep me")
    with pytest.raises(FileExistsError, match="never overwritten"):
        keys.generate(tmp_path / "signing")
    assert (tmp_path / existing).read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    keys.generate(tmp_path / "signing")
    (tmp_path / "signing").chmod(0o644)
    with pytest.raises(keys.KeyFileError, match="chmod 600"):
        keys.load_private(tmp_path / "signing")


@pytest.mark.parametrize(("line", "sentence"), [
    ("ssh-ed25519 AAAA", "expected 'ed25519 BASE64"),
    ("ed25519", "expected 'ed25519 BASE64"),
    ("ed25519 not-base64!", "the key is not 32 bytes of base64"),
    ("ed25519 AAAA", "the key is not 32 bytes of base64"),
    ("ed25519 " + "A" * 43 + "= bell\x07", "the comment must be printable ASCII"),
])
def test_a_malformed_trusted_key_line_is_refused_with_its_place(
        tmp_path: Path, line: str, sentence: str) -> None:
    path = tmp_path / "trusted"
    path.write_text(f"# the plant's engineers\n\n{line}\n")
    with pytest.raises(keys.KeyFileError, match=re.escape(f"{path}:3: {sentence}")):
        keys.load_trusted([path])


def test_a_huge_key_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "trusted"
    path.write_bytes(b"#" * (keys.MAX_KEY_FILE + 1))
    with pytest.raises(keys.KeyFileError, match="not a key file"):
        keys.load_trusted([path])
