"""The simulated `signal-event`, run through its shim."""

from __future__ import annotations

import os

import pytest


def run(sim, *argv):
    return sim.host().run(list(argv))


def enable_signing(sim):
    assert run(sim, "db", "configuration", "setprop", "qpsmtpd", "DKIMSigning", "enabled").ok
    assert run(sim, "signal-event", "email-update").returncode == 0


def test_no_links_while_dkim_signing_is_disabled(sim_root):
    sim = sim_root("demo")
    assert os.listdir(sim.root / "var/service/qpsmtpd/config/dkim") == []
    assert "dkim" not in (sim.root / "var/service/qpsmtpd/config/plugins").read_text().split()


def test_email_update_links_domain_key_files_into_a_real_directory(sim_root):
    sim = sim_root("demo")
    enable_signing(sim)
    host = sim.host()
    domain_dir = host.stat("/var/service/qpsmtpd/config/dkim/example.org")
    assert domain_dir.is_dir and not domain_dir.is_symlink
    private = host.stat("/var/service/qpsmtpd/config/dkim/example.org/private")
    selector = host.stat("/var/service/qpsmtpd/config/dkim/example.org/selector")
    assert (
        private.is_symlink and private.link_target == "/home/e-smith/dkim_keys/example.org/default"
    )
    assert selector.link_target == "/home/e-smith/dkim_keys/example.org/selector"
    # The link is absolute and root-prefixed, so a real qpsmtpd can follow it.
    real = os.readlink(sim.root / "var/service/qpsmtpd/config/dkim/example.org/private")
    assert os.path.isabs(real) and os.path.exists(real)
    assert "dkim" in (sim.root / "var/service/qpsmtpd/config/plugins").read_text().split()


def test_domains_without_keys_get_no_links_and_keys_outside_dkim_keys_are_ignored(sim_root):
    sim = sim_root("demo")
    enable_signing(sim)
    assert sorted(os.listdir(sim.root / "var/service/qpsmtpd/config/dkim")) == ["example.org"]


def test_default_key_is_the_fallback_for_every_domain(sim_root):
    sim = sim_root("dkim-default-key")
    host = sim.host()
    for domain in ("example.com", "example.org"):
        st = host.stat(f"/var/service/qpsmtpd/config/dkim/{domain}/private")
        assert st.link_target == "/home/e-smith/dkim_keys/default/default"
        assert not host.stat(f"/var/service/qpsmtpd/config/dkim/{domain}").is_symlink


def test_disabling_signing_removes_generated_links(sim_root):
    sim = sim_root("good")
    assert os.listdir(sim.root / "var/service/qpsmtpd/config/dkim")
    assert run(sim, "db", "configuration", "setprop", "qpsmtpd", "DKIMSigning", "disabled").ok
    assert run(sim, "signal-event", "email-update").returncode == 0
    assert os.listdir(sim.root / "var/service/qpsmtpd/config/dkim") == []


def test_email_update_with_nothing_changed_leaves_every_generated_mtime(sim_root):
    # SME's template expansion rewrites only files whose text changes: evidence in the logs is
    # judged against these mtimes (VER006), so a no-op event must not make old lines look stale
    sim = sim_root("good")
    watched = ["var/service/qpsmtpd/config/plugins", "var/service/qpsmtpd/config/dkim",
               "var/service/qpsmtpd/config/dkim/example.com", "var/qmail/control/helohost",
               "etc/mail/spamassassin/local.cf"]
    os.utime(sim.root / watched[0], (1, 1))
    for path in watched:
        os.utime(sim.root / path, (1_000_000, 1_000_000), follow_symlinks=False)
    assert run(sim, "signal-event", "email-update").returncode == 0
    assert [os.lstat(sim.root / p).st_mtime for p in watched] == [1_000_000] * len(watched)
    # a real change moves exactly what it changes
    assert run(sim, "db", "configuration", "setprop", "qpsmtpd", "DKIMSigning", "disabled").ok
    assert run(sim, "signal-event", "email-update").returncode == 0
    assert os.lstat(sim.root / watched[0]).st_mtime > 1_000_000
    assert os.lstat(sim.root / "var/qmail/control/helohost").st_mtime == 1_000_000


def test_email_update_regenerates_helo_doublebounce_and_spamassassin(sim_root):
    sim = sim_root("demo")
    control = sim.root / "var/qmail/control"
    assert (control / "doublebounceto").read_text() == "postmaster\n"
    assert (control / "helohost").read_text() == "example.com\n"
    run(sim, "db", "configuration", "setprop", "qmail", "DoubleBounceTo", "devnull")
    run(sim, "db", "configuration", "setprop", "qpsmtpd", "HeloHost", "mail.example.com")
    run(
        sim,
        "db",
        "configuration",
        "setprop",
        "spamassassin",
        "Sensitivity",
        "custom",
        "TagLevel",
        "3.3",
        "RejectLevel",
        "12",
    )
    assert (control / "doublebounceto").read_text() == "postmaster\n"  # not before the event
    assert run(sim, "signal-event", "email-update").returncode == 0
    assert (control / "doublebounceto").read_text() == "devnull\n"
    assert (control / "helohost").read_text() == "mail.example.com\n"
    assert (sim.root / "var/service/qpsmtpd/config/me").read_text() == "mail.example.com\n"
    # SME's template: the custom TagLevel minus 0.01 (docs/sme-v10.md A3)
    assert "required_score 3.29\n" in (sim.root / "etc/mail/spamassassin/local.cf").read_text()
    assert (
        "spamassassin reject_threshold 12"
        in (sim.root / "var/service/qpsmtpd/config/plugins").read_text()
    )


def test_a_sensitivity_preset_ignores_custom_levels_as_smes_templates_do(sim_root):
    sim = sim_root("demo")
    assert run(sim, "db", "configuration", "setprop", "spamassassin", "Sensitivity", "high",
               "TagLevel", "8", "RejectLevel", "12").returncode == 0
    assert run(sim, "signal-event", "email-update").returncode == 0
    assert "required_score 2.99\n" in (sim.root / "etc/mail/spamassassin/local.cf").read_text()
    plugins = (sim.root / "var/service/qpsmtpd/config/plugins").read_text()
    assert "\nspamassassin\n" in plugins and "reject_threshold" not in plugins


def test_badmailfrom_comes_from_the_wbl_db_when_present(sim_root):
    sim = sim_root("demo")
    assert run(
        sim,
        "db",
        "wbl",
        "set",
        "badmailfrom",
        "list",
        "@quickbooks-online.info",
        "Black",
        "spam@bad.example",
        "Black",
        "ok@fine.example",
        "White",
    ).ok
    assert run(sim, "signal-event", "email-update").returncode == 0
    text = (sim.root / "var/qmail/control/badmailfrom").read_text()
    assert text == "@quickbooks-online.info\nspam@bad.example\n"


def test_event_is_logged_with_its_handlers(sim_root):
    sim = sim_root("fresh")
    run(sim, "signal-event", "email-update")
    log = (sim.root / "var/log/messages").read_text()
    assert "esmith::event" in log and "Processing event: email-update" in log
    assert "Running event handler: /etc/e-smith/events/email-update/S10qpsmtpd-dkim-links" in log


def test_pseudonym_create(sim_root):
    sim = sim_root("demo")
    assert (
        run(sim, "signal-event", "pseudonym-create", "dmarc-feedback").returncode == 1
    )  # no record yet
    run(sim, "db", "accounts", "set", "dmarc-feedback", "pseudonym", "Account", "admin")
    assert run(sim, "signal-event", "pseudonym-create", "dmarc-feedback").returncode == 0
    assert (sim.root / "var/qmail/alias/.qmail-dmarc-feedback").read_text() == "&admin\n"


@pytest.mark.parametrize("argv", [("signal-event",), ("signal-event", "no-such-event")])
def test_unknown_event_or_no_event_exits_1(sim_root, argv):
    sim = sim_root("fresh")
    assert run(sim, *argv).returncode == 1


def test_failing_handler_makes_the_event_exit_1(sim_root):
    sim = sim_root("good")
    dkim = sim.root / "var/service/qpsmtpd/config/dkim"
    # An admin's hand-made directory with a real file in it is not ours to remove.
    (dkim / "example.org").joinpath("private").unlink()
    (dkim / "example.org" / "private").write_text("hand-made")
    assert run(sim, "signal-event", "email-update").returncode == 1
    assert (dkim / "example.org" / "private").read_text() == "hand-made"


def test_hostile_domain_key_never_becomes_a_path(sim_root):
    sim = sim_root("good")
    assert run(sim, "db", "domains", "set", "../../../etc", "domain").ok
    assert run(sim, "signal-event", "email-update").returncode == 0
    assert not (sim.root / "etc" / "private").exists()
    assert sorted(os.listdir(sim.root / "var/service/qpsmtpd/config/dkim")) == [
        "example.com",
        "example.org",
    ]


def test_qpsmtpd_dns_prints_the_guides_layout_with_the_real_public_key(sim_root):
    sim = sim_root("good")
    result = run(sim, "qpsmtpd-dns", "example.org")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    whole = next(line for line in lines if line.startswith("mar2026._domainkey IN TXT v=DKIM1;p="))
    assert whole.endswith(";t=y")
    published = sim.zones["example.org"]
    key = whole.split("p=", 1)[1].removesuffix(";t=y")
    assert key[:200] in published
    assert '@ IN SPF "v=spf1 mx a -all"' in lines
    assert "rua=mailto:dmarc-feedback@example.org; pct=100" in result.stdout


def test_qpsmtpd_dns_without_any_key_fails(sim_root):
    sim = sim_root("fresh")
    result = run(sim, "qpsmtpd-dns")
    assert result.returncode == 1 and "no usable DKIM key for example.com" in result.stderr


def test_pseudonym_delete_removes_the_alias(sim_root):
    sim = sim_root("good")
    assert (sim.root / "var/qmail/alias/.qmail-dmarc-feedback").exists()
    assert run(sim, "db", "accounts", "delete", "dmarc-feedback").ok
    assert run(sim, "signal-event", "pseudonym-delete", "dmarc-feedback").returncode == 0
    assert not (sim.root / "var/qmail/alias/.qmail-dmarc-feedback").exists()
