"""`smewizard` (tui) and `smewizard demo`: bad options give a clear message and exit 2."""

from __future__ import annotations

import pytest

from smewizard.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_unknown_demo_scenario_lists_the_known_ones(capsys):
    code, _, err = run(capsys, "demo", "--scenario", "nope")
    assert code == 2
    assert "unknown scenario 'nope'" in err and "demo" in err and "Traceback" not in err


def test_demo_lists_scenarios(capsys):
    code, out, _ = run(capsys, "demo", "--list-scenarios")
    assert code == 0 and "demo" in out.split()


@pytest.mark.parametrize("prefix", [(), ("tui",)])
def test_root_that_is_not_an_sme_root_is_refused(capsys, tmp_path, prefix):
    code, _, err = run(capsys, *prefix, "--root", str(tmp_path))
    assert code == 2 and "no home/e-smith/db" in err


@pytest.mark.parametrize(
    "option", [("--nameserver", "not a server"), ("--public-ip", "300.1.1.1"), ("--domain", "a b.com")]
)
def test_bad_target_options_are_usage_errors(capsys, option):
    code, _, err = run(capsys, *option)
    assert code == 2 and err.startswith("smewizard: error:") and "Traceback" not in err


def test_without_a_terminal_the_wizard_says_to_use_check(capsys, sim_root):
    sim = sim_root("demo")
    code, _, err = run(capsys, "--root", str(sim.root))
    assert code == 2 and "smewizard check" in err


def test_the_wizard_refuses_a_domain_the_server_does_not_host(capsys, sim_root):
    sim = sim_root("demo")
    code, _, err = run(capsys, "--root", str(sim.root), "--domain", "nothosted.example")
    assert code == 2 and "--domain nothosted.example: not hosted on this server" in err
