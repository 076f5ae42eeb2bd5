"""``portless fleet keygen|sign|verify``: keys and signed bundles from the command line
(``publish|status|watch|rollback``, through the broker, are in engineer_command.py;
``keys|revoke``, on a device, in device_keys.py).

Exit 0 on success, 1 when a bundle is refused or a file is not as committed, 2 for
unusable arguments or key files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portless.runtime.atomic import atomic_write

from . import device_keys, engineer_command, keys
from .bundle import MAX_BUNDLE_BYTES, BundleRefused, verify
from .git import DirtyFiles
from .signing import sign_files

ENGINEER_ACTIONS = {"publish", "status", "watch", "rollback"}
DEVICE_ACTIONS = {"keys", "revoke"}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fleet = commands.add_parser(
        "fleet", help="signing keys, signed flow bundles and rollouts to devices",
        description="Make signing keys, sign flow files into a bundle for devices, "
                    "verify a bundle as a device does, publish it to devices through the "
                    "management broker and follow the rollout (docs/fleet.md).")
    actions = fleet.add_subparsers(dest="fleet_command", required=True, metavar="ACTION")
    keygen = actions.add_parser(
        "keygen", help="make an Ed25519 key pair",
        description="Write a new private key to KEYFILE (mode 0600) and its public line "
                    "to KEYFILE.pub; never overwrites either.")
    keygen.add_argument("--output", "-o", type=Path, required=True, metavar="KEYFILE")
    keygen.add_argument("--comment", default="", metavar="TEXT",
                        help="who the key is, written after the public key")
    signer = actions.add_parser(
        "sign", help="sign flow files into a bundle",
        description="Sign flow files into a bundle with a version and, inside a git "
                    "repository, the HEAD commit (refused when a file is not as "
                    "committed).")
    signer.add_argument("files", nargs="+", type=Path, metavar="FLOW_FILE")
    signer.add_argument("--key", type=Path, required=True, metavar="KEYFILE")
    signer.add_argument("--version", type=int, required=True, metavar="N",
                        help="the bundle's version: a device runs only a newer one")
    signer.add_argument("--rollback", action="store_true",
                        help="mark the bundle a rollback: a device accepts it even when "
                             "its version is not newer than the one it runs")
    signer.add_argument("--output", "-o", type=Path, required=True, metavar="BUNDLE.json")
    checker = actions.add_parser(
        "verify", help="check a bundle's signature and contents",
        description="Check a bundle as a device does: its shape, its files' hashes and "
                    "its signature by one of the trusted keys.")
    checker.add_argument("bundle", type=Path, metavar="BUNDLE.json")
    checker.add_argument("--trusted", type=Path, action="append", required=True,
                         metavar="KEYS", help="a file of trusted public key lines (may be "
                                              "given more than once)")
    engineer_command.add_parsers(actions)
    device_keys.add_parsers(actions)


def run(args: argparse.Namespace) -> int:
    if args.fleet_command in ENGINEER_ACTIONS:
        return engineer_command.run(args)
    if args.fleet_command in DEVICE_ACTIONS:
        return device_keys.run(args)
    handler = {"keygen": _keygen, "sign": _sign, "verify": _verify}[args.fleet_command]
    try:
        return handler(args)
    except (keys.KeyFileError, OSError) as exc:
        print(f"portless fleet {args.fleet_command}: {_sentence(exc)}", file=sys.stderr)
        return 2


def _keygen(args: argparse.Namespace) -> int:
    trusted = keys.generate(args.output, args.comment)
    print(f"{args.output}: private key (keep it here; it never goes to a device)")
    print(f"{keys.public_key_path(args.output)}: public key {trusted.key_id}; add its line "
          f"to each device's trusted keys")
    return 0


def _sign(args: argparse.Namespace) -> int:
    try:
        bundle, document = sign_files(args.files, args.key, args.version, args.rollback)
    except (DirtyFiles, BundleRefused) as exc:
        print(f"portless fleet sign: {exc}", file=sys.stderr)
        return 1
    atomic_write(args.output, document)
    where = f"commit {bundle.commit}" if bundle.commit \
        else "no git repository (no commit recorded)"
    print(f"{args.output}: version {bundle.version}, {len(bundle.files)} file(s), {where}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    trusted = keys.load_trusted(args.trusted)
    with open(args.bundle, "rb") as handle:
        data = handle.read(MAX_BUNDLE_BYTES + 1)  # verify() names the size limit
    try:
        bundle, key = verify(data, trusted)
    except BundleRefused as exc:
        print(f"{args.bundle}: refused: {exc}", file=sys.stderr)
        return 1
    signer = f"{key.key_id} ({key.comment})" if key.comment else key.key_id
    print(f"{args.bundle}: verified: version {bundle.version}"
          f"{' (rollback)' if bundle.rollback else ''}, commit {bundle.commit or 'none'}, "
          f"signed by {signer}")
    for file in bundle.files:
        print(f"  {file.sha256}  {file.name}")
    return 0


def _sentence(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)
