"""README.md is what a new user follows first: its commands must exist and must work as written."""

from __future__ import annotations

import re
from pathlib import Path

from smewizard.cli import build_parser
from smewizard.ui.demo import scenario_names

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _subcommands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_every_smewizard_subcommand_in_the_readme_exists():
    named = set(re.findall(r"smewizard (?!--)([a-z][a-z-]+)", README))
    assert named and named <= _subcommands()


def test_every_scenario_in_the_readme_exists():
    named = set(re.findall(r"--scenario ([a-z][a-z-]*)", README))
    assert named and named <= set(scenario_names())


def test_the_try_it_command_installs_into_a_virtual_environment():
    """A bare `pip install` fails on Debian 12 / Ubuntu (PEP 668) before the demo ever starts."""
    block = README.split("## Try it", 1)[1].split("```", 2)[1]
    assert "python3 -m venv .venv" in block and ".venv/bin/smewizard demo" in block
    assert not re.search(r"(^|&& )pip install", block)
