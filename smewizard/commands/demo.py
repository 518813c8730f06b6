"""`smewizard demo [--scenario NAME]`: the wizard against a simulated SME v10 server.

Nothing real is touched: the server is a temporary directory and DNS is the embedded
authoritative server on loopback, both removed on exit.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys

from smewizard.commands.common import EXIT_OK, EXIT_USAGE, error


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the wizard against a simulated SME server and DNS (nothing real is touched)",
        description="Build a simulated SME v10 server in a temp dir, serve its DNS on loopback, "
        "and run the wizard against it. Records can be 'published' in the demo DNS.",
    )
    p.add_argument(
        "--scenario", default="demo", metavar="NAME",
        help="which simulated server to build (default: demo; --list-scenarios to see all)",
    )
    p.add_argument("--list-scenarios", action="store_true", help="print the scenario names and exit")
    p.add_argument("--dry-run", action="store_true", help="show the commands every change would run, change nothing")
    p.add_argument("--check", action="store_true",
                   help="print what `smewizard check` says of the simulated server instead of starting the "
                        "wizard (no terminal needed; exit status as check's)")
    p.add_argument("--json", action="store_true", help="with --check: the JSON of `check --json`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smewizard.ui.demo import DemoSession, check_scenario, scenario_names

    if args.list_scenarios:
        print("\n".join(scenario_names()))
        return EXIT_OK
    check_scenario(args.scenario)  # before anything is built: a typo is a clear usage error
    if args.check:
        return _check(args.scenario, as_json=args.json)
    if args.json:
        error("--json goes with --check.")
        return EXIT_USAGE
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        error("the demo needs an interactive terminal.")
        return EXIT_USAGE
    from smewizard.ui.app import SmeWizardApp

    with DemoSession(args.scenario) as demo:
        assert demo.ctx is not None and demo.auth_server is not None
        demo.ctx.dry_run = bool(getattr(args, "dry_run", False))
        app = SmeWizardApp(demo.ctx, server_label=demo.label, publisher=demo.auth_server.publish)
        with exit_on_hangup(app):
            app.run()
    return EXIT_OK


def _check(scenario: str, *, as_json: bool) -> int:
    import asyncio

    from smewizard.commands.check import emit
    from smewizard.engine import run_audit
    from smewizard.ui.demo import DemoSession

    with DemoSession(scenario) as demo:
        assert demo.ctx is not None
        result = asyncio.run(run_audit(demo.ctx))
        return emit(result, demo.label, None, as_json=as_json)


@contextlib.contextmanager
def exit_on_hangup(app):
    """A closed terminal (SIGHUP) or SIGTERM ends the app normally, so the temp root and the
    DNS server are cleaned up instead of left behind."""
    signals = [s for s in (signal.SIGHUP, signal.SIGTERM) if s is not None]
    previous = {s: signal.signal(s, lambda *_: app.exit()) for s in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
