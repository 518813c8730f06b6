"""`smewizard records DOMAIN [--zone]` against the simulated server and loopback DNS."""

from __future__ import annotations

import dns.rdatatype
import dns.zone

from smewizard.cli import main
from smewizard.commands.records import zone_snippet
from smewizard.model import Record


def run_cli(capsys, sim, auth_server, *argv):
    ns = f"{auth_server.address[0]}:{auth_server.address[1]}"
    code = main([*argv, "--root", str(sim.root), "--nameserver", ns, "--dns-timeout", "1"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_zone_snippet_parses_as_a_bind_zone_with_the_proposed_records(capsys, sim_dns, auth_server):
    sim, _ = sim_dns("demo")
    code, out, _ = run_cli(capsys, sim, auth_server, "records", "example.org", "--zone")
    assert code == 0
    assert "$ORIGIN example.org." in out and "\n@\t" in out and "\n_dmarc\t" in out
    zone = dns.zone.from_text(out, origin="example.org.", relativize=True, check_origin=False)
    spf = zone.get_rdataset("@", dns.rdatatype.TXT)
    assert b"".join(spf[0].strings).startswith(b"v=spf1")
    dmarc = zone.get_rdataset("_dmarc", dns.rdatatype.TXT)
    assert b"".join(dmarc[0].strings).startswith(b"v=DMARC1")
    assert "; publish in the zone that holds" in out  # the PTR belongs to the provider's zone


def test_plain_listing_and_unknown_domain(capsys, sim_dns, auth_server):
    sim, _ = sim_dns("demo")
    code, out, _ = run_cli(capsys, sim, auth_server, "records", "example.org")
    assert code == 0 and out.startswith("DNS records to publish for example.org:") and "_dmarc.example.org  TXT" in out
    code, out, err = run_cli(capsys, sim, auth_server, "records", "not-hosted.example")
    assert code == 2 and out == "" and "not a domain hosted on this server" in err
    code, _, err = run_cli(capsys, sim, auth_server, "records", "bad_domain..x")
    assert code == 2 and "Traceback" not in err


def test_long_txt_is_split_into_255_octet_quoted_strings_on_one_line():
    value = "v=DKIM1; k=rsa; p=" + "A" * 600
    record = Record("mar2026._domainkey.example.com", "TXT", value, domain="example.com")
    text = zone_snippet("example.com", [record])
    [line] = [ln for ln in text.splitlines() if ln.startswith("mar2026._domainkey\t")]
    assert "(" not in line and line.count('"') == 6
    zone = dns.zone.from_text(text, origin="example.com.", check_origin=False)
    rdata = zone.get_rdataset("mar2026._domainkey", "TXT")[0]
    assert [len(s) for s in rdata.strings] == [255, 255, 108] and b"".join(rdata.strings).decode() == value


def test_a_server_at_p_reject_is_never_told_to_publish_a_weaker_policy(capsys, sim_dns, auth_server):
    """The DMARC step-back record is offered (optional) but is not a record to publish."""
    sim, _ = sim_dns("good")
    code, out, _ = run_cli(capsys, sim, auth_server, "records", "example.com")
    assert code == 0
    assert "p=quarantine" not in out and "p=none" not in out
    code, out, _ = run_cli(capsys, sim, auth_server, "check", "--json", "--step", "dmarc")
    import json

    records = json.loads(out)["steps"]["dmarc"]["records"]
    back = [r for r in records if r["domain"] == "example.com" and "p=quarantine" in r["value"]]
    assert back and all(r["optional"] for r in back)  # still offered, marked optional
