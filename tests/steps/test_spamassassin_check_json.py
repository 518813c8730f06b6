"""`smewizard check --json` covers the HELO, bounce and SpamAssassin steps (the engine picks up
each module's STEP), on the simulated demo server with DNS from the loopback server."""

from __future__ import annotations

import json

from smewizard.cli import main
from smewizard.sim.salearn import install_sa_learn


def test_check_json_has_the_three_steps(sim_dns, capsys):
    sim, dns = sim_dns("demo")
    install_sa_learn(sim.root)
    ip, port = dns.nameservers[0]
    code = main(["check", "--json", "--root", str(sim.root), "--nameserver", f"{ip}:{port}",
                 "--step", "helo", "--step", "bounce", "--step", "spamassassin"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # the demo has failures
    steps = out["steps"]
    assert set(steps) == {"helo", "bounce", "spamassassin"}
    helo_codes = {f["code"] for f in steps["helo"]["findings"]}
    assert {"HELO005", "HELO013"} <= helo_codes
    assert steps["helo"]["records"][0]["type"] == "PTR"
    bounce_cmds = [c for a in steps["bounce"]["actions"] for c in a["commands"]]
    assert "db configuration setprop qmail DoubleBounceTo devnull" in bounce_cmds
    sa_codes = {f["code"] for f in steps["spamassassin"]["findings"]}
    assert {"SA012", "SA030", "SA050", "SA060"} <= sa_codes
    assert steps["spamassassin"]["actions"] == []
