"""`smewizard tui` (being built: see the UI issue)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="(being built)")
    p.set_defaults(func=lambda args: print("not built yet") or 2)
