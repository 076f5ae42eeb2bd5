"""The arguments of ``portless fleet ACTION``: every action's parser, and nothing of what
runs them. Every portless command builds the whole parser, so this module must not
import cryptography or gmqtt: a headless ``portless run`` would pay for them."""

from __future__ import annotations

import argparse
from pathlib import Path

from .limits import DEFAULT_CHUNK_SIZE, MAX_BUNDLE_BYTES, MIN_CHUNK_SIZE
from .reports import SUCCESS


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
    _engineer_parsers(actions)
    _device_parsers(actions)


def _engineer_parsers(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    publish = actions.add_parser(
        "publish", help="publish a signed bundle to devices",
        description="Publish a signed bundle (a file, or flow files signed now) as the "
                    "retained desired state of each device named.")
    _broker_arguments(publish, devices_required=True)
    publish.add_argument("--bundle", type=Path, metavar="BUNDLE.json",
                         help="a bundle signed before (portless fleet sign)")
    _signing_arguments(publish, "the bundle's version, when signing flow files now")
    publish.add_argument("files", nargs="*", type=Path, metavar="FLOW_FILE",
                         help="flow files to sign now (with --key and --version)")
    _watch_arguments(publish, optional=True)
    status = actions.add_parser(
        "status", help="show each device's reported state",
        description="Print each device's retained reported state under the prefix; exit "
                    "1 if any device failed or rolled back (or a named one never "
                    "reported).")
    _broker_arguments(status, devices_required=False)
    follow = actions.add_parser(
        "watch", help="follow a rollout until every device has ended its job",
        description="Print each named device's state as it changes until every one "
                    "ended its job for VERSION well, failed or rolled back, or the time "
                    "is up (exit 3).")
    _broker_arguments(follow, devices_required=True)
    follow.add_argument("--version", type=int, required=True, metavar="N",
                        help="the version that was published")
    _watch_arguments(follow)
    back = actions.add_parser(
        "rollback", help="publish the flow files as they were at a commit",
        description="Sign the flow files as they were at COMMIT (git show COMMIT:path) "
                    "into a rollback bundle recording that commit, and publish it.")
    _broker_arguments(back, devices_required=True)
    back.add_argument("--commit", required=True, metavar="COMMIT",
                      help="the commit to go back to (any name git takes)")
    _signing_arguments(back, "the bundle's version (default: one more than the highest "
                             "version the devices named run or were sent)")
    back.add_argument("files", nargs="+", type=Path, metavar="FLOW_FILE",
                      help="the flow files, as paths in the repository's work tree")
    _watch_arguments(back, optional=True)


def _watch_arguments(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    if optional:
        parser.add_argument("--watch", action="store_true",
                            help="then follow the rollout as watch does (following from "
                                 "before the publish, so no report is missed)")
    parser.add_argument("--until", choices=sorted(SUCCESS), default="healthy",
                        help="the state that ends a job well (default healthy; deployed "
                             "for devices without a health gate)")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                        help="how long to follow (default 300)")


def _broker_arguments(parser: argparse.ArgumentParser, devices_required: bool) -> None:
    parser.add_argument("--config", type=Path, required=True, metavar="FLEET.json",
                        help="the management broker and topic prefix (docs/fleet.md)")
    parser.add_argument("--device", action="append", default=[], metavar="ID",
                        help="a device id (may be given more than once)"
                             + ("" if devices_required else "; default every device"))
    parser.add_argument("--devices", type=Path, metavar="FILE",
                        help="a file of device ids, one a line (# comments)")
    parser.set_defaults(devices_required=devices_required)


def _signing_arguments(parser: argparse.ArgumentParser, version_help: str) -> None:
    parser.add_argument("--key", type=Path, metavar="KEYFILE", help="the signing key")
    parser.add_argument("--version", type=int, metavar="N", help=version_help)
    parser.add_argument("--chunk-size", type=_chunk_size, default=DEFAULT_CHUNK_SIZE,
                        metavar="BYTES", help=f"a bundle larger than this goes in chunks "
                                              f"of this size (default {DEFAULT_CHUNK_SIZE})")


def _chunk_size(text: str) -> int:
    size = int(text)
    if not MIN_CHUNK_SIZE <= size <= MAX_BUNDLE_BYTES:
        raise argparse.ArgumentTypeError(f"from {MIN_CHUNK_SIZE} to {MAX_BUNDLE_BYTES} "
                                         f"bytes")
    return size


def _device_parsers(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lister = actions.add_parser(
        "keys", help="list the keys a device trusts",
        description="List each key the trusted-keys files of a device configuration "
                    "hold: its id, its comment, and the file and line holding it.")
    lister.add_argument("--device", type=Path, required=True, metavar="DEVICE.json")
    revoker = actions.add_parser(
        "revoke", help="stop a device trusting a key",
        description="Remove a key's line from the device's trusted-keys files "
                    "(atomically); its bundles and requests are refused from then on, "
                    "also by a device that is running.")
    revoker.add_argument("key_id", metavar="KEY_ID", help="the key's 32 hex digit id")
    revoker.add_argument("--device", type=Path, required=True, metavar="DEVICE.json")
    revoker.add_argument("--force", action="store_true",
                         help="remove the last trusted key too (the device then refuses "
                              "every bundle until someone at it adds a key)")
