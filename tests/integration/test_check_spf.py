"""`smewizard check --json` against simulated SME roots whose DNS is served by the loopback
authoritative server: the SPF findings, proposed records and exit codes a script relies on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smewizard import cli

PUBLIC_IP = "203.0.113.10"
RELAY_IP = "198.51.100.25"


@pytest.fixture
def check(sim_root, auth_server, capsys):
    """check(scenario, *extra_args) → (exit code, JSON output or None, stderr)."""

    def run(scenario: str, *extra: str, setup=None):
        sim = sim_root(scenario)
        sim.serve(auth_server)
        if setup:
            setup(auth_server)
        argv = ["check", "--json", "--step", "spf", "--root", str(sim.root),
                "--nameserver", f"127.0.0.1:{auth_server.port}", "--dns-timeout", "1", *extra]
        code = cli.main(argv)
        out, err = capsys.readouterr()
        return code, (json.loads(out) if out.strip() else None), err

    return run


def findings(report, domain):
    return {(f["code"], f["status"]) for f in report["steps"]["spf"]["findings"] if f["domain"] == domain}


def records(report):
    return {r["domain"]: r for r in report["steps"]["spf"]["records"]}


def test_demo_reports_missing_relay_ptr_and_missing_record(check):
    code, report, _ = check("demo")
    assert code == 1
    assert ("SPF005", "fail") in findings(report, "example.com")
    assert ("SPF006", "warn") in findings(report, "example.org")
    assert ("SPF001", "fail") in findings(report, "shop.example.net")
    proposed = records(report)
    # `a` goes: example.com has no A record, so it is a void lookup that authorises nothing
    assert proposed["example.com"]["value"] == f"v=spf1 mx ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all"
    assert proposed["shop.example.net"]["value"] == f"v=spf1 ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all"
    assert all(r["type"] == "TXT" and r["name"] == r["domain"] for r in proposed.values())


def test_good_server_passes_with_exit_zero_and_nothing_to_publish(check):
    code, report, _ = check("good")
    assert code == 0
    assert report["steps"]["spf"]["status"] == "pass"
    for domain in ("example.com", "example.org"):
        assert ("SPF015", "pass") in findings(report, domain)
    assert report["steps"]["spf"]["records"] == []


def test_spf_problems_are_each_reported(check):
    code, report, _ = check("spf-problems")
    assert code == 1
    assert {("SPF002", "fail"), ("SPF012", "warn")} <= findings(report, "example.com")
    assert ("SPF007", "fail") in findings(report, "example.org")
    assert ("SPF010", "fail") in findings(report, "example.net")
    assert ("SPF011", "fail") in findings(report, "example.info")
    proposed = records(report)
    assert proposed["example.org"]["value"] == f"v=spf1 ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all"
    assert proposed["example.info"]["value"] == f"v=spf1 ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all"
    assert "v=spf1" not in json.dumps([r for r in proposed.values() if r["type"] != "TXT"])


def test_dns_timeout_is_unknown_not_missing_and_proposes_nothing(check):
    code, report, _ = check("dns-timeout")
    assert findings(report, "example.org") == {("SPF014", "unknown")}
    assert "example.org" not in records(report)
    assert report["steps"]["spf"]["status"] == "unknown"
    assert code == 0  # unknown is not a fail: exit 1 is reserved for real failures


def test_domain_option_restricts_the_audit(check):
    code, report, _ = check("demo", "--domain", "example.org")
    assert {f["domain"] for f in report["steps"]["spf"]["findings"]} == {"example.org"}


def test_domain_with_a_space_is_a_usage_error(check):
    code, report, err = check("demo", "--domain", "exa mple.com")
    assert code == 2
    assert report is None
    assert "not a valid domain name" in err and "Traceback" not in err


def test_hostile_records_give_findings_not_tracebacks(check):
    huge = "v=spf1 " + " ".join(f"ip4:192.0.2.{i % 250}" for i in range(400)) + " ~all"

    def hostile(server):
        server.set_txt("example.com", [huge])
        server.set_txt("example.org", ["v=spf1 %{ \\x00 ip4:1.2.3.4/99 include:: ?all", "x" * 5000])

    code, report, err = check("demo", setup=hostile)
    assert code == 1 and "Traceback" not in err
    assert ("SPF016", "warn") in findings(report, "example.com")
    assert ("SPF003", "fail") in findings(report, "example.org")
    proposal = records(report)["example.com"]
    assert len(proposal["value"]) > 3000 and all(len(c.encode()) <= 255 for c in proposal["chunks"])


def test_check_as_a_real_process(sim_root, auth_server):
    sim = sim_root("demo")
    sim.serve(auth_server)
    done = subprocess.run(
        [sys.executable, "-m", "smewizard", "check", "--json", "--step", "spf", "--root", str(sim.root),
         "--nameserver", f"127.0.0.1:{auth_server.port}"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert ("SPF001", "fail") in findings(report, "shop.example.net")


def test_allocated_network_option_goes_into_the_proposal(check):
    code, report, _ = check("demo", "--spf-network", "198.51.100.0/24")
    assert records(report)["shop.example.net"]["value"] == f"v=spf1 ip4:198.51.100.0/24 ip4:{PUBLIC_IP} ~all"
    assert "TXT only" in records(report)["shop.example.net"]["note"]


def test_bad_network_option_is_a_usage_error(check):
    code, report, err = check("demo", "--spf-network", "198.51.100.0/33")
    assert code == 2 and report is None and "Traceback" not in err
