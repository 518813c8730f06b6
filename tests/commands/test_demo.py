"""`smewizard demo --check`: what `check` says of a simulated server, without a terminal."""

from __future__ import annotations

import json

from smewizard.cli import main


def test_demo_check_json_is_check_json_of_the_simulated_server(capsys):
    assert main(["demo", "--check", "--json"]) == 1  # the demo is seeded with problems to fix
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == 1 and out["server"]["fqdn"] == "mail.example.com"
    assert set(out["steps"]) == {"spf", "dkim", "dmarc", "helo", "bounce", "spamassassin", "verify"}
    assert main(["demo", "--check", "--scenario", "good"]) == 0
    assert "[pass] spf" in capsys.readouterr().out


def test_json_without_check_is_a_usage_error(capsys):
    assert main(["demo", "--json"]) == 2
    assert "--json goes with --check" in capsys.readouterr().err
