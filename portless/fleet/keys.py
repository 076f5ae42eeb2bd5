"""Ed25519 keys for signing bundles: a private key file for the engineer (PKCS#8 PEM,
mode 0600, never overwritten) and one-line public keys that a device trusts.

A public key line is ``ed25519 BASE64 [comment]`` (BASE64 the raw 32 bytes), so a file
of trusted keys is read, diffed and reviewed like an SSH ``authorized_keys``. A key is
named by its id: the first 16 bytes of the SHA-256 of its raw bytes, in hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from portless.runtime.atomic import atomic_write

KEY_KIND = "ed25519"
MAX_KEY_FILE = 64 * 1024
"""The largest key file read (a few hundred keys); more is a mistake."""
_COMMENT = re.compile(r"[\x20-\x7e]*")


class KeyFileError(ValueError):
    """A key file that cannot be used, with a sentence naming the file and the line."""


@dataclass(frozen=True)
class TrustedKey:
    """A public key a device trusts, with the comment from its line (who it is)."""

    key: Ed25519PublicKey
    comment: str = ""

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def line(self) -> str:
        """The key's line for a trusted-keys file."""
        raw = self.key.public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw)
        text = f"{KEY_KIND} {base64.b64encode(raw).decode('ascii')}"
        return f"{text} {self.comment}" if self.comment else text


def key_id(key: Ed25519PublicKey) -> str:
    """32 hex digits naming a public key in a bundle and in messages."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_key_path(private_path: str | Path) -> Path:
    """Where keygen puts the public half: beside the private key, with ``.pub`` added."""
    path = Path(private_path)
    return path.with_name(path.name + ".pub")


def generate(private_path: str | Path, comment: str = "") -> TrustedKey:
    """Make a key pair: the private key at ``private_path`` (0600), the public line at
    ``private_path.pub`` (0644). Refuses (FileExistsError) when either exists, before
    writing anything; each file is written atomically."""
    if not _COMMENT.fullmatch(comment):
        raise KeyFileError("the key comment must be printable ASCII on one line")
    private_path = Path(private_path)
    public_path = public_key_path(private_path)
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise FileExistsError(f"{path} exists; a key is never overwritten (remove it "
                                  f"first if you mean to replace it)")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    trusted = TrustedKey(private.public_key(), comment)
    atomic_write(private_path, pem, exclusive=True)  # mkstemp's file is 0600
    atomic_write(public_path, (trusted.line() + "\n").encode("ascii"), exclusive=True)
    os.chmod(public_path, 0o644)
    return trusted


def load_private(path: str | Path) -> Ed25519PrivateKey:
    """The private key of a keygen file; refuses one that others may read."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(f"{path}: a private key must be readable by its owner only (mode "
                        f"{mode:o}); run: chmod 600 {path}")
    data = _read_small(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


@dataclass(frozen=True)
class KeyLine:
    """A key where a trusted-keys file holds it: the file and the line number."""

    file: Path
    number: int
    key: TrustedKey


def load_trusted(paths: list[Path]) -> dict[str, TrustedKey]:
    """Every key in the trusted-keys files, by key id."""
    return {line.key.key_id: line.key for line in trusted_lines(paths)}


def trusted_lines(paths: list[Path]) -> list[KeyLine]:
    """Every key line of the trusted-keys files, in order; blank lines and ``#`` lines
    skipped. A file holding a private key is refused: it never belongs on a device."""
    lines: list[KeyLine] = []
    for path in paths:
        text = _read_small(path).decode("utf-8", "replace")
        if "PRIVATE KEY" in text:
            raise KeyFileError(f"{path}: holds a private key; a device trusts public keys "
                               f"only (the line of keygen's .pub file), and a private key "
                               f"never belongs on one: delete this file from the device")
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(KeyLine(path, number, parse_public_line(line,
                                                                     f"{path}:{number}")))
    return lines


def parse_public_line(line: str, place: str) -> TrustedKey:
    """One ``ed25519 BASE64 [comment]`` line; ``place`` names it in the error."""
    parts = line.strip().split(maxsplit=2)
    if len(parts) < 2 or parts[0] != KEY_KIND:
        raise KeyFileError(f"{place}: expected 'ed25519 BASE64 [comment]'")
    try:
        raw = base64.b64decode(parts[1], validate=True)
        key = Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{place}: the key is not 32 bytes of base64") from None
    comment = parts[2] if len(parts) > 2 else ""
    if not _COMMENT.fullmatch(comment):
        raise KeyFileError(f"{place}: the comment must be printable ASCII")
    return TrustedKey(key, comment)


def _read_small(path: Path) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_KEY_FILE + 1)
    if len(data) > MAX_KEY_FILE:
        raise KeyFileError(f"{path}: larger than {MAX_KEY_FILE} bytes; not a key file")
    return data
