"""Entry point: `smewizard [SUBCOMMAND] …` (the TUI when no subcommand is given)."""

from __future__ import annotations

import argparse
import importlib
import sys

from smewizard import __version__
from smewizard.commands import COMMAND_MODULES
from smewizard.commands.common import EXIT_USAGE, error
from smewizard.host.base import HostError
from smewizard.sme.db import DbFormatError
from smewizard.validate import InvalidValue


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smewizard",
        description="Guided SPF, DKIM, DMARC, FCrDNS and spam hygiene for Koozali SME Server v10.",
    )
    parser.add_argument("--version", action="version", version=f"smewizard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"smewizard.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["tui", *argv]  # `smewizard --root DIR` means `smewizard tui --root DIR`
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["tui", *argv])
    try:
        return int(args.func(args) or 0)
    except InvalidValue as exc:
        error(str(exc))
        return EXIT_USAGE
    except HostError as exc:
        error(str(exc))
        return EXIT_USAGE
    except DbFormatError as exc:
        error(f"{exc}; nothing was changed")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
