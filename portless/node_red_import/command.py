"""``portless import-node-red FLOWS.json [-o DIR]``: convert, write, print the report.

Exit 0 when everything converted, 1 when the files were written but something was not
converted (or kept disabled), 2 when the export could not be read or nothing could be
written (then nothing was)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portless.runtime import FlowInvalid


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import-node-red", help="convert a Node-RED flow export into flow files",
        description="Convert a Node-RED export (flows.json, or what its Export dialog "
                    "gives) into portless flow files: one per tab, subflows under "
                    "subflows/, MQTT brokers in connections.json. Prints what was "
                    "converted, approximated and not converted; exit 0 only when "
                    "everything converted.")
    parser.add_argument("export", type=Path, metavar="FLOWS.json")
    parser.add_argument("--output", "-o", type=Path, default=None, metavar="DIR",
                        help="the directory to write (default: the export's name without "
                             ".json, beside it)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files that exist already")


def run(args: argparse.Namespace) -> int:
    from .convert import convert  # here, not at the top: every command builds the parser
    from .export import read_export
    from .write import write_conversion

    directory = args.output or args.export.with_suffix("")
    if directory == args.export:
        directory = args.export.with_name(args.export.name + ".portless")
    try:
        conversion = convert(read_export(args.export), args.export.name)
        written = write_conversion(conversion, directory, overwrite=args.force)
    except FlowInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 2
    conversion.report.files = [str(path) for path in written]
    sys.stdout.write(conversion.report.text())
    return 0 if conversion.report.complete else 1
