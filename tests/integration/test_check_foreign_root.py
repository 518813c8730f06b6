"""`smewizard check` on an SME root built by someone else: db files copied from a server as SME
writes them, nothing of our simulator (no shims, no /etc/passwd, no sa-learn, no logs)."""

from __future__ import annotations

import json

from smewizard.cli import main

CONFIGURATION = """\
# DO NOT MODIFY THIS FILE.
# This file is automatically maintained by the Mitel Networks SME Server
# configuration software.  Manually editing this file may put your
# system in an unknown state.
#
# updated: Tue Nov 24 10:00:00 2026
DomainName=example.com
SMTPSmartHost=relay.isp.example
SystemMode=serveronly
SystemName=mail
qmail=service|DoubleBounceTo|postmaster|status|enabled
qpsmtpd=service|DKIMSigning|enabled|HeloHost|mail.example.com|status|enabled
spamassassin=service|RejectLevel|0|Sensitivity|medium|TagLevel|5|status|enabled
"""
DOMAINS = """\
# DO NOT MODIFY THIS FILE.
example.com=domain|Content|Primary|Description|Primary domain|Nameservers|internal|SystemPrimaryDomain|yes
example.org=domain|Content|Primary|Description|Second|Nameservers|internal
this line is garbage
"""
ACCOUNTS = """\
# DO NOT MODIFY THIS FILE.
admin=system|FirstName|Local|LastName|Administrator
alice=user|FirstName|Alice|LastName|Example|PasswordSet|yes
"""


def test_check_reads_a_copied_root(tmp_path, make_zone, auth_server, capsys):
    db = tmp_path / "home/e-smith/db"
    db.mkdir(parents=True)
    (db / "configuration").write_text(CONFIGURATION)
    (db / "domains").write_text(DOMAINS)
    (db / "accounts").write_text(ACCOUNTS)
    make_zone("example.com", a={"mail.example.com": ["203.0.113.10"]},
              txt={"example.com": ["v=spf1 ip4:203.0.113.10 ~all"]})
    make_zone("example.org")
    make_zone("isp.example", a={"relay.isp.example": ["198.51.100.25"]})
    ns = "{}:{}".format(*auth_server.address)
    code = main(["check", "--json", "--root", str(tmp_path), "--nameserver", ns, "--dns-timeout", "1"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    report = json.loads(out.out)
    assert report["server"]["fqdn"] == "mail.example.com"
    assert report["server"]["relay_ips"] == ["198.51.100.25"]
    assert set(report["server"]["domains"]) >= {"example.com", "example.org"}
    # the garbage line is reported, not silently dropped or guessed at
    assert any(p["db"] == "domains" for p in report["server"]["db_problems"])
    spf = {(f["domain"], f["code"]): f["status"] for f in report["steps"]["spf"]["findings"]}
    assert spf[("example.com", "SPF005")] == "fail"  # the relay is missing from SPF
    assert spf[("example.org", "SPF001")] == "fail"  # no SPF at all
    assert "Traceback" not in out.err
