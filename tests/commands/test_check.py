"""`smewizard check` on odd targets and options: a clear message, exit 2, no traceback, nothing
changed; and the demo/good scenarios end to end (what a new user sees first)."""

from __future__ import annotations

import json

import pytest

from smewizard import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def served(sim_root, auth_server):
    def make(scenario: str = "demo"):
        sim = sim_root(scenario)
        sim.serve(auth_server)
        return sim, ["--root", str(sim.root), "--nameserver", f"127.0.0.1:{auth_server.port}",
                     "--dns-timeout", "1"]

    return make


def usage_error(code: int, err: str) -> bool:
    return code == 2 and err.startswith("smewizard: error:") and "Traceback" not in err


def test_a_db_file_with_binary_junk_is_an_input_error_not_a_traceback(capsys, served):
    sim, target = served()
    db = sim.root / "home/e-smith/db/configuration"
    db.write_bytes(db.read_bytes() + b"\x00\x01\xff junk\n")
    before = db.read_bytes()
    code, out, err = run(capsys, "check", *target)
    assert usage_error(code, err)
    assert "/home/e-smith/db/configuration contains NUL bytes" in err and out == ""
    assert db.read_bytes() == before


@pytest.mark.parametrize("domain", ["nothosted.example", "xn--bcher-kva.example"])
def test_a_domain_the_server_does_not_host_is_named(capsys, served, domain):
    _, target = served()
    code, out, err = run(capsys, "check", *target, "--domain", domain)
    assert usage_error(code, err)
    assert f"--domain {domain}: not hosted on this server" in err
    assert "example.com, example.org, shop.example.net" in err and out == ""


def test_a_hosted_domain_in_capitals_is_accepted(capsys, served):
    _, target = served()
    code, out, _ = run(capsys, "check", *target, "--json", "--domain", "EXAMPLE.COM")
    assert code == 1 and json.loads(out)["server"]["domains"] == ["example.com"]


def test_a_root_without_a_configuration_db_is_not_audited(capsys, tmp_path):
    (tmp_path / "home/e-smith/db").mkdir(parents=True)
    code, out, err = run(capsys, "check", "--root", str(tmp_path))
    assert usage_error(code, err)
    assert "does not look like an SME server" in err and out == ""


def test_an_empty_root_option_is_refused_not_read_as_this_machine(capsys):
    code, _, err = run(capsys, "check", "--root", "")
    assert usage_error(code, err) and "--root needs a directory" in err


def test_the_good_scenario_has_no_warning_or_failure(capsys, served):
    _, target = served("good")
    code, out, _ = run(capsys, "check", *target, "--json")
    report = json.loads(out)
    bad = [(key, f["code"]) for key, step in report["steps"].items() for f in step["findings"]
           if f["status"] in ("fail", "warn")]
    assert code == 0 and bad == []


def test_demo_dmarc_of_the_subdomain_shop_is_known_and_fixable(capsys, served):
    """shop.example.net's DMARC lookup falls back to example.net; the demo DNS must answer it
    (NXDOMAIN), not refuse it, or the demo shows "unknown" and proposes nothing."""
    _, target = served("demo")
    _, out, _ = run(capsys, "check", *target, "--json", "--step", "dmarc")
    step = json.loads(out)["steps"]["dmarc"]
    shop = {f["code"]: f["status"] for f in step["findings"] if f["domain"] == "shop.example.net"}
    assert "unknown" not in shop.values() and shop.get("DMARC001") == "fail"
    assert "shop.example.net" in {r["domain"] for r in step["records"]}


def test_a_hosted_name_that_is_no_dns_name_is_reported_and_every_other_step_still_runs(capsys, served):
    # QA4 H3: one bad entry in the domains db stopped the whole audit (exit 2)
    sim, target = served("good")
    domains = sim.root / "home/e-smith/db/domains"
    domains.write_text(domains.read_text() + "-bad-.example=domain|Nameservers|internet\n")
    code, out, err = run(capsys, "check", "--json", *target)
    assert code in (0, 1), err
    report = json.loads(out)
    assert set(report["steps"]) == {"spf", "dkim", "dmarc", "helo", "bounce", "spamassassin", "verify"}
    spf = [f for f in report["steps"]["spf"]["findings"] if f["code"] == "SPF021"]
    assert spf and spf[0]["domain"] == "-bad-.example" and spf[0]["status"] == "unknown"
    proposed = json.dumps([report["steps"][s].get("actions") for s in report["steps"]])
    assert "-bad-.example" not in proposed  # nothing is built from it


def test_text_output_marks_an_optional_record_and_shows_record_notes(capsys, served):
    # QA4 H1: on a p=reject server the DMARC step-back record was printed as "publish …"
    sim, target = served("good")
    code, out, err = run(capsys, "check", *target)
    back = [line for line in out.splitlines() if "TXT v=DMARC1; p=quarantine" in line]
    assert back and all("optional, see the note:" in line for line in back)
    assert not any(line.strip().startswith("publish") and "p=quarantine" in line for line in out.splitlines())
    assert "      note: " in out
