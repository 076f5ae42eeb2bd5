"""``portless fleet keygen|sign|verify``: keys and signed bundles from the command line
(``publish|status|watch|rollback``, through the broker, are in engineer_command.py;
``keys|revoke``, on a device, in device_keys.py).

Exit 0 on success, 1 when a bundle is refused or a file is not as committed, 2 for
unusable arguments or key files."""

from __future__ import annotations

import argparse
import sys

from portless.runtime.atomic import atomic_write

from . import keys
from .bundle import BundleRefused, verify
from .git import DirtyFiles
from .limits import MAX_BUNDLE_BYTES
from .signing import sign_files

ENGINEER_ACTIONS = {"publish", "status", "watch", "rollback"}
DEVICE_ACTIONS = {"keys", "revoke"}


def run(args: argparse.Namespace) -> int:
    """Run ``args.fleet_command``; its exit status."""
    if args.fleet_command in ENGINEER_ACTIONS:
        from . import engineer_command  # gmqtt: only for the actions through the broker

        return engineer_command.run(args)
    if args.fleet_command in DEVICE_ACTIONS:
        from . import device_keys

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
