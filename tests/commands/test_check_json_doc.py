"""docs/check-json.md is the contract for scripts and fleets: it exists where `check --help`
points, names the schema version the program prints, its exit codes and stability promise, and
documents every field a real `check --json` run emits (QA: the file was missing)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from smewizard import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "check-json.md"
DYNAMIC = {"steps", "cells", "fields"}  # their keys are step names, domains, an action's own fields


def field_names(value, parent: str = "") -> set[str]:
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if parent not in DYNAMIC:
                names.add(key)
            names |= field_names(item, key)
    elif isinstance(value, list):
        for item in value:
            names |= field_names(item, parent)
    return names


def test_check_help_points_to_the_schema_doc(capsys):
    try:
        cli.main(["check", "--help"])
    except SystemExit:
        pass
    assert "docs/check-json.md" in capsys.readouterr().out
    assert DOC.is_file()


def test_the_doc_covers_every_field_version_and_exit_code(capsys, sim_root, auth_server):
    sim = sim_root("demo")
    sim.serve(auth_server)
    code = cli.main(["check", "--json", "--root", str(sim.root), "--nameserver", f"127.0.0.1:{auth_server.port}",
                     "--dns-timeout", "1"])
    data = json.loads(capsys.readouterr().out)
    doc = DOC.read_text(encoding="utf-8")
    assert code == 1  # the demo has failures: exit 1, as documented
    assert re.search(rf"schema version {data['schema']}\b", doc) and f'"schema": {data["schema"]}' in doc
    undocumented = sorted(name for name in field_names(data) if f"`{name}`" not in doc and f"`items[].{name}`" not in doc)
    assert undocumented == [], undocumented
    for promise in ("exit code", "0 when no finding is `fail`", "1 when one is", "2 for a usage error",
                    "## Versioning", "## Example"):
        assert promise in doc
