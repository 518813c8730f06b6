"""`smewizard apply` end to end on a simulated server with its DNS on loopback: the preview is
printed, --dry-run changes nothing, no terminal and no --yes refuses, --save-plan and
`check --json` produce plans that apply, and undo puts everything back."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from smewizard.cli import main


def fingerprint(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def target(sim, auth_server) -> list[str]:
    host, port = auth_server.address
    return ["--root", str(sim.root), "--nameserver", f"{host}:{port}"]


def test_dry_run_prints_commands_grouped_and_changes_nothing(sim_dns, auth_server, capsys):
    sim, _ = sim_dns("demo")
    before = fingerprint(sim.root)
    assert main(["apply", "--step", "dkim", "--dry-run", *target(sim, auth_server)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DRY RUN")
    assert "[dkim] server-wide" in out and "[dkim] example.com" in out
    assert "# db configuration setprop qpsmtpd DKIMSigning enabled" in out
    assert "from: disabled" in out and "to:   enabled" in out
    assert "Dry run: nothing was changed." in out
    assert fingerprint(sim.root) == before


def test_without_a_terminal_and_without_yes_nothing_is_applied(sim_dns, auth_server, capsys):
    sim, _ = sim_dns("demo")
    before = fingerprint(sim.root)
    assert main(["apply", "--step", "helo", *target(sim, auth_server)]) == 2
    captured = capsys.readouterr()
    assert "# db configuration setprop qpsmtpd HeloHost" in captured.out
    assert "re-run with --yes" in captured.err
    assert fingerprint(sim.root) == before


def test_save_plan_then_apply_it_then_undo(sim_dns, auth_server, tmp_path, capsys):
    sim, _ = sim_dns("demo")
    db = sim.root / "home/e-smith/db/configuration"
    original = [ln for ln in db.read_text().splitlines() if "updated:" not in ln]
    plan = tmp_path / "bounce.json"
    assert main(["apply", "--step", "bounce", "--save-plan", str(plan), *target(sim, auth_server)]) == 0
    saved = json.loads(plan.read_text())
    assert saved["format"] == "smewizard-plan" and saved["actions"]
    assert main(["apply", "--plan", str(plan), "--yes", "--root", str(sim.root)]) == 0
    out = capsys.readouterr().out
    assert "[1/" in out and "Undo it with `smewizard undo" in out
    assert "DoubleBounceTo|devnull" in db.read_text()
    assert main(["undo", "--last", "--yes", "--root", str(sim.root)]) == 0
    assert [ln for ln in db.read_text().splitlines() if "updated:" not in ln] == original


def test_check_json_output_applies_as_a_plan(sim_dns, auth_server, tmp_path, capsys):
    sim, _ = sim_dns("demo")
    main(["check", "--json", "--step", "helo", *target(sim, auth_server)])
    report = tmp_path / "check.json"
    report.write_text(capsys.readouterr().out)
    assert main(["apply", "--plan", str(report), "--yes", "--root", str(sim.root)]) == 0
    assert "HeloHost|mail.example.com" in (sim.root / "home/e-smith/db/configuration").read_text()


def test_a_hostile_plan_is_refused_before_anything_is_read(sim_root, tmp_path, capsys):
    sim = sim_root("demo")
    plan = tmp_path / "evil.json"
    plan.write_text(json.dumps({"format": "smewizard-plan", "version": 1, "actions": [
        {"type": "SetProp", "fields": {"db": "configuration", "key": "qpsmtpd", "prop": "X", "value": "ok"}},
        {"type": "SetProp", "fields": {"db": "configuration", "key": "qpsmtpd", "prop": "Y", "value": "a\nB=c"}},
    ]}))
    before = fingerprint(sim.root)
    assert main(["apply", "--plan", str(plan), "--yes", "--root", str(sim.root)]) == 2
    assert "action 2 (SetProp): db value" in capsys.readouterr().err
    assert fingerprint(sim.root) == before


def test_undo_list_and_unknown_run(sim_root, capsys):
    sim = sim_root("demo")
    assert main(["undo", "--list", "--root", str(sim.root)]) == 0
    assert "No runs recorded" in capsys.readouterr().out
    assert main(["undo", "20990101T000000-000000", "--root", str(sim.root)]) == 2
    assert "no run 20990101T000000-000000" in capsys.readouterr().err
    assert main(["undo", "../../etc/passwd", "--root", str(sim.root)]) == 2


def test_a_db_with_duplicate_or_garbled_lines_is_not_changed_until_fixed(sim_dns, auth_server, capsys):
    # QA4 M1: SME's db rewrites the whole file from what it parsed, so the earlier of two
    # `qpsmtpd=` records (with all its props) would be lost by any setprop: refuse, say why
    sim, _ = sim_dns("demo")
    db = sim.root / "home/e-smith/db/configuration"
    db.write_text(db.read_text() + "qpsmtpd=service|DKIMSigning|disabled\ngarbage line\n")
    before = fingerprint(sim.root)
    code = main(["apply", "--step", "helo", "--yes", *target(sim, auth_server)])
    err = capsys.readouterr().err
    assert code != 0 and "the configuration db has lines SME's db program would drop" in err
    assert "duplicate key 'qpsmtpd'" in err and "fix them first" in err
    assert fingerprint(sim.root) == before
