"""`smewizard [tui]`: the full-screen wizard against this server (or --root DIR)."""

from __future__ import annotations

import argparse
import sys

from smewizard.commands.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_target_options,
    build_context,
    close_host,
    error,
    require_hosted,
    require_sme_server,
)
from smewizard.steps.base import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tui",
        help="the full-screen wizard against this server (what `smewizard` alone runs)",
        description="Audit this SME server and its DNS, explain, propose and apply fixes.",
    )
    add_target_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ctx = build_context(args)
    try:
        return _run(ctx)
    finally:
        close_host(ctx)  # an SSH session and its ControlMaster end with the wizard


def _run(ctx: Context) -> int:
    require_sme_server(ctx)
    if ctx.only_domains:
        from smewizard.sme.config import SmeConfig

        require_hosted(ctx, SmeConfig.load(ctx.host).hosted_domains)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        error("the wizard needs an interactive terminal; for scripts use `smewizard check`.")
        return EXIT_USAGE
    from smewizard.ui.app import SmeWizardApp  # Textual loads only when the UI really starts

    SmeWizardApp(ctx).run()
    return EXIT_OK
