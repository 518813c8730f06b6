"""SpamAssassin step and `smewizard spamassassin` on the simulated SME root."""

from __future__ import annotations

import asyncio

import pytest

from smewizard.actions.apply import apply_actions
from smewizard.cli import main
from smewizard.dns import Dns
from smewizard.model import Status
from smewizard.sim.multilog import multilog_text
from smewizard.sim.salearn import install_sa_learn
from smewizard.sme.db import read_db
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server
from smewizard.steps.spamassassin import STEP, WblEntry, blacklist_actions, threshold_actions
from smewizard.validate import InvalidValue


def audit(host):
    ctx = Context(host=host, dns=Dns([("127.0.0.1", 9)], timeout=0.2), public_ips=("203.0.113.10",))

    async def go():
        server = await probe_server(ctx)
        facts = await STEP.probe(ctx, server)
        return facts, STEP.assess(facts)

    return asyncio.run(go())


def codes(result) -> dict[str, Status]:
    return {f.code: f.status for f in result.findings}


def demo(sim_root, **bayes):
    """The demo scenario with the simulated sa-learn (never the test machine's own)."""
    sim = sim_root("demo")
    install_sa_learn(sim.root, **bayes)
    return sim


def with_wbl(root, entries=()):
    props = "".join(f"|{e}|Black" for e in entries)
    (root / "home/e-smith/db/wbl").write_text(f"badmailfrom=service{props}\nbadhelo=service\n")


def test_untrained_demo_reports_no_bayes_data(sim_root):
    sim = demo(sim_root)  # empty Bayes db
    facts, result = audit(sim.host())
    found = codes(result)
    assert found["SA012"] is Status.WARN
    assert facts.bayes.detail == "the Bayes database is empty or missing"
    assert found["SA021"] is Status.INFO  # no smeserver-wbl: generated file mechanism
    for code in ("SA030", "SA050", "SA060"):
        assert code in found  # Parts 6/8/9 guidance always present
    assert result.actions == ()


def test_trained_bayes_and_thresholds(sim_root):
    sim = demo(sim_root, nspam=5000, nham=9000, ntokens=150_000)
    sim.host().run(["db", "configuration", "setprop", "spamassassin", "Sensitivity", "custom",
                    "TagLevel", "3.3", "RejectLevel", "12"])
    facts, result = audit(sim.host())
    found = codes(result)
    assert found["SA010"] is Status.PASS
    assert "tag at 3.3, reject 12" in next(f.message for f in result.findings if f.code == "SA001")
    assert "SA004" not in found


def test_low_reject_level_with_untrained_bayes_warns(sim_root):
    sim = demo(sim_root, nspam=20, nham=30, ntokens=900)
    sim.host().run(["db", "configuration", "setprop", "spamassassin", "Sensitivity", "custom",
                    "TagLevel", "3", "RejectLevel", "6"])
    _, result = audit(sim.host())
    found = codes(result)
    assert found["SA011"] is Status.WARN and found["SA004"] is Status.WARN


def test_levels_ignored_without_custom_sensitivity(sim_root):
    sim = demo(sim_root)
    sim.host().run(["db", "configuration", "setprop", "spamassassin", "Sensitivity", "medium", "TagLevel", "3"])
    _, result = audit(sim.host())
    assert codes(result)["SA003"] is Status.WARN


def test_malformed_stored_threshold_is_reported_without_action(sim_root):
    sim = demo(sim_root)
    sim.host().run(["db", "configuration", "setprop", "spamassassin", "Sensitivity", "custom", "TagLevel", "five"])
    _, result = audit(sim.host())
    finding = next(f for f in result.findings if f.code == "SA002")
    assert finding.status is Status.FAIL and "'five' is not a plain number" in finding.message
    assert result.actions == ()


def test_missing_sa_learn_is_unknown(sim_root, monkeypatch, tmp_path):
    sim = sim_root("demo")
    (sim.root / "usr/bin/sa-learn").unlink()  # the simulated server's own sa-learn is gone
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # the test machine's sa-learn must not answer
    facts, result = audit(sim.host())
    assert codes(result)["SA013"] is Status.UNKNOWN


def test_threshold_edit_applies_through_db_and_event(sim_root):
    sim = demo(sim_root)
    host = sim.host()
    current = read_db(host, "configuration").get("spamassassin").props
    actions = threshold_actions("3.3", "12", current)
    assert [a.shell()[0] for a in actions][-1] == "signal-event email-update"
    assert apply_actions(host, actions).ok
    props = read_db(host, "configuration").get("spamassassin").props
    assert (props["Sensitivity"], props["TagLevel"], props["RejectLevel"]) == ("custom", "3.3", "12")


def test_malformed_threshold_via_cli_changes_nothing(sim_root, capsys):
    sim = demo(sim_root)
    before = (sim.root / "home/e-smith/db/configuration").read_bytes()
    code = main(["spamassassin", "--root", str(sim.root), "--tag", "3,3", "--reject", "12", "--yes"])
    assert code == 2
    assert "TagLevel '3,3' is not a plain number" in capsys.readouterr().err
    assert (sim.root / "home/e-smith/db/configuration").read_bytes() == before
    code = main(["spamassassin", "--root", str(sim.root), "--tag", "8", "--reject", "6", "--yes"])
    assert code == 2 and "must be above TagLevel" in capsys.readouterr().err
    assert (sim.root / "home/e-smith/db/configuration").read_bytes() == before


def test_cli_applies_thresholds(sim_root, capsys):
    sim = demo(sim_root)
    assert main(["spamassassin", "--root", str(sim.root), "--tag", "4", "--reject", "14", "--yes"]) == 0
    assert read_db(sim.host(), "configuration").prop("spamassassin", "RejectLevel") == "14"
    assert main(["spamassassin", "--root", str(sim.root)]) == 0
    assert "tag 4, reject 14" in capsys.readouterr().out


def test_blacklist_through_wbl_db(sim_root):
    sim = demo(sim_root)
    with_wbl(sim.root, ["@old.example"])
    host = sim.host()
    facts, result = audit(host)
    assert facts.mechanism == "wbl" and facts.blacklist == ("@old.example",)
    assert codes(result)["SA020"] is Status.INFO
    actions = blacklist_actions("@QuickBooks-Online.info", add=True, mechanism="wbl")
    assert actions[0].shell() == ["db wbl setprop badmailfrom @quickbooks-online.info Black"]
    assert apply_actions(host, actions + blacklist_actions("@old.example", add=False, mechanism="wbl")).ok
    props = read_db(host, "wbl").get("badmailfrom").props
    assert props == {"@quickbooks-online.info": "Black"}


def test_blacklist_without_wbl_refuses_and_says_where(sim_root, capsys):
    sim = demo(sim_root)
    code = main(["spamassassin", "--root", str(sim.root), "--blacklist-add", "@bad.example", "--yes"])
    assert code == 2
    assert "templates-custom/var/qmail/control/badmailfrom" in capsys.readouterr().err


def test_bad_blacklist_entry_is_rejected_before_any_change(sim_root, capsys):
    sim = demo(sim_root)
    with_wbl(sim.root)
    before = (sim.root / "home/e-smith/db/wbl").read_bytes()
    assert main(["spamassassin", "--root", str(sim.root), "--blacklist-add", "bad.example", "--yes"]) == 2
    assert "is not an envelope sender" in capsys.readouterr().err
    assert (sim.root / "home/e-smith/db/wbl").read_bytes() == before
    with pytest.raises(InvalidValue):
        WblEntry("@bad.example|x")


def test_guide_style_accounts_records_are_flagged(sim_root):
    sim = demo(sim_root)
    sim.host().run(["db", "accounts", "set", "@quickbooks-online.info", "badmailfrom", "Blacklisted", "yes"])
    _, result = audit(sim.host())
    finding = next(f for f in result.findings if f.code == "SA022")
    assert "no effect" in finding.message and "@quickbooks-online.info" in finding.message


def test_clamav_spoofed_domain_hits_are_counted(sim_root):
    sim = demo(sim_root)
    log = sim.root / "var/log/qpsmtpd/current"
    extra = multilog_text([(1_700_000_000.0, "4242 (data_post) virus::clamdscan: Virus found: "
                            "Heuristics.Phishing.Email.SpoofedDomain")])
    log.write_text(log.read_text() + extra)
    _, result = audit(sim.host())
    finding = next(f for f in result.findings if f.code == "SA040")
    assert "rejected 1 message" in finding.message and "whitelist_from" in finding.explanation


def test_wordpress_form_posts_are_counted(sim_root):
    sim = demo(sim_root)
    httpd = sim.root / "var/log/httpd"
    httpd.mkdir(parents=True, exist_ok=True)
    line = '198.51.100.9 - - [01/Jan/2024:00:00:00 +0000] "POST /wp-admin/admin-post.php HTTP/1.1" 200 5 "-" "x"\n'
    (httpd / "access_log").write_text(line * 600)
    _, result = audit(sim.host())
    assert codes(result)["SA061"] is Status.WARN
