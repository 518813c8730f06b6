"""Dns lookups over the wire against the embedded authoritative server: every outcome."""

from __future__ import annotations

import asyncio
import threading

import pytest

from smewizard.dns import Dns, Outcome, parse_nameserver
from smewizard.dns.authserver import AuthServer
from smewizard.validate import InvalidValue

DKIM_KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 110  # ~5,000


@pytest.fixture
def zone(make_zone) -> AuthServer:
    return make_zone(
        "example.com",
        txt={
            "example.com": ["v=spf1 mx -all", "google-site-verification=abc"],
            "feb2026._domainkey.example.com": [DKIM_KEY],
            "_dmarc.example.com": ["v=DMARC1; p=none"],
        },
        mx={"example.com": ["10 mail.example.com.", "20 backup.example.net."]},
        a={"mail.example.com": ["192.0.2.10"]},
        aaaa={"mail.example.com": ["2001:db8::10"]},
        cname={"www.example.com": ["mail.example.com."], "out.example.com": ["mail.example.org."]},
    )


async def test_txt_records_stay_separate(zone, dns_client):
    lookup = await dns_client.txt("example.com")
    assert lookup.outcome is Outcome.ANSWER and lookup.ok
    assert sorted(lookup.values) == ["google-site-verification=abc", "v=spf1 mx -all"]


async def test_multi_string_txt_is_joined_without_separator(auth_server, make_zone, dns_client):
    make_zone("example.com")
    auth_server.set_records("split.example.com", "TXT", ['"v=spf1 ip4:192.0.2.1 " "-all"'])
    lookup = await dns_client.txt("split.example.com")
    assert lookup.values == ("v=spf1 ip4:192.0.2.1 -all",)


async def test_long_txt_comes_back_whole_via_tcp(zone, dns_client):
    lookup = await dns_client.txt("feb2026._domainkey.example.com")
    assert lookup.values == (DKIM_KEY,)
    transports = [q.transport for q in zone.queries if q.qname.startswith("feb2026")]
    assert transports == ["udp", "tcp"]  # truncated over UDP first


async def test_mx_values_are_preference_and_host(zone, dns_client):
    lookup = await dns_client.mx("EXAMPLE.com.")
    assert sorted(lookup.values) == ["10 mail.example.com", "20 backup.example.net"]
    assert lookup.name == "example.com"


async def test_a_aaaa_ns(zone, dns_client):
    assert (await dns_client.a("mail.example.com")).values == ("192.0.2.10",)
    assert (await dns_client.aaaa("mail.example.com")).values == ("2001:db8::10",)
    assert (await dns_client.ns("example.com")).values == ("ns1.example.com",)


async def test_cname_in_zone_gives_the_target_data(zone, dns_client):
    assert (await dns_client.a("www.example.com")).values == ("192.0.2.10",)


async def test_cname_to_another_zone_is_followed(zone, make_zone, dns_client):
    make_zone("example.org", a={"mail.example.org": ["198.51.100.7"]})
    lookup = await dns_client.a("out.example.com")
    assert lookup.ok and lookup.values == ("198.51.100.7",)
    assert lookup.name == "out.example.com"


async def test_cname_to_a_name_nobody_serves_is_a_failure_not_absence(zone, dns_client):
    lookup = await dns_client.a("out.example.com")  # example.org is not served: REFUSED
    assert lookup.failed


async def test_ptr(auth_server, make_zone, dns_client):
    make_zone("113.0.203.in-addr.arpa", ptr={"10.113.0.203.in-addr.arpa": ["mail.example.com."]})
    lookup = await dns_client.ptr("203.0.113.10")
    assert lookup.values == ("mail.example.com",)
    assert (await dns_client.ptr("203.0.113.11")).outcome is Outcome.NXDOMAIN


async def test_ptr_of_something_not_an_ip_is_an_error_not_absence(dns_client):
    lookup = await dns_client.ptr("not-an-ip")
    assert lookup.outcome is Outcome.ERROR and lookup.failed
    assert "not an IP address" in lookup.error


async def test_nxdomain_is_absent(zone, dns_client):
    lookup = await dns_client.txt("nothing.example.com")
    assert lookup.outcome is Outcome.NXDOMAIN
    assert lookup.absent and not lookup.failed


async def test_nodata_is_absent(zone, dns_client):
    lookup = await dns_client.txt("mail.example.com")
    assert lookup.outcome is Outcome.NODATA
    assert lookup.absent and not lookup.failed
    assert "no TXT record" in lookup.describe()


@pytest.mark.parametrize("kind", ["servfail", "refused"])
async def test_server_failure_is_failed_not_absent(zone, dns_client, kind):
    zone.set_failure("_dmarc.example.com", kind)
    lookup = await dns_client.txt("_dmarc.example.com")
    assert lookup.outcome is Outcome.SERVFAIL
    assert lookup.failed and not lookup.absent


async def test_timeout_is_failed_not_absent(zone):
    zone.set_failure("example.com", "timeout")
    lookup = await Dns([zone.address], timeout=0.3).txt("example.com")
    assert lookup.outcome is Outcome.TIMEOUT
    assert lookup.failed and not lookup.absent
    assert "timeout" in lookup.describe()


async def test_nothing_listening_is_a_failure(auth_server):
    address = auth_server.address
    auth_server.stop()
    lookup = await Dns([address], timeout=0.3).a("example.com")
    assert lookup.failed


async def test_name_outside_the_servers_zones_is_failed(zone, dns_client):
    assert (await dns_client.a("example.net")).outcome is Outcome.SERVFAIL


@pytest.mark.parametrize(
    "name", ["a b.example.com", "", "bad\nname.example.com", "x" * 70 + ".com"]
)
async def test_hostile_names_are_errors_without_a_query(zone, dns_client, name):
    lookup = await dns_client.txt(name)
    assert lookup.outcome is Outcome.ERROR
    assert "not a valid DNS name" in lookup.error
    assert zone.queries == []


async def test_unknown_record_type_is_an_error(dns_client):
    lookup = await dns_client.lookup("example.com", "BOGUS")
    assert lookup.outcome is Outcome.ERROR and "not a DNS record type" in lookup.error


async def test_many_runs_fifty_names_concurrently_in_order(auth_server, make_zone, dns_client):
    names = [f"d{i}.example.com" for i in range(60)]
    make_zone("example.com", txt={n: [f"v=spf1 ip4:192.0.2.{i} -all"] for i, n in enumerate(names)})
    queries = [(n, "TXT") for n in names] + [("missing.example.com", "TXT")]
    lookups = await dns_client.many(queries)
    assert [lk.name for lk in lookups] == [n for n, _ in queries]
    assert [lk.values for lk in lookups[:60]] == [
        (f"v=spf1 ip4:192.0.2.{i} -all",) for i in range(60)
    ]
    assert lookups[60].outcome is Outcome.NXDOMAIN
    assert len(auth_server.queries) == 61


async def test_a_published_change_is_seen_by_the_next_lookup(zone, dns_client):
    before = await dns_client.txt("_dmarc.example.com")
    zone.set_txt("_dmarc.example.com", ["v=DMARC1; p=quarantine"])
    after = await dns_client.txt("_dmarc.example.com")
    assert before.values == ("v=DMARC1; p=none",)
    assert after.values == ("v=DMARC1; p=quarantine",)


def test_lookup_sync_from_a_worker_thread(zone, dns_client):
    results = []
    worker = threading.Thread(
        target=lambda: results.append(dns_client.lookup_sync("mail.example.com", "A"))
    )
    worker.start()
    worker.join(10)
    assert results[0].values == ("192.0.2.10",)


def test_lookup_sync_outcomes(zone, dns_client):
    assert dns_client.lookup_sync("feb2026._domainkey.example.com", "TXT").values == (DKIM_KEY,)
    assert dns_client.lookup_sync("nothing.example.com", "A").outcome is Outcome.NXDOMAIN
    zone.set_failure("mail.example.com", "servfail")
    assert dns_client.lookup_sync("mail.example.com", "A").outcome is Outcome.SERVFAIL


async def test_lookup_sync_in_a_thread_while_a_loop_runs(zone, dns_client):
    lookup = await asyncio.to_thread(dns_client.lookup_sync, "example.com", "MX")
    assert lookup.ok


def test_sync_resolver_asks_the_configured_server(zone, dns_client):
    answer = dns_client.sync_resolver().resolve("mail.example.com", "A")
    assert [r.to_text() for r in answer] == ["192.0.2.10"]


# ------------------------------------------------------------------ direct mode


@pytest.fixture
def direct_zone(auth_server, make_zone):
    """example.com whose NS ns1.example.com has glue 127.0.0.1: direct mode finds its way
    back to the same server through SOA, NS and A lookups."""
    make_zone("example.com", txt={"_dmarc.example.com": ["v=DMARC1; p=reject"]})
    return auth_server


async def test_direct_mode_finds_the_zone_and_asks_its_ns(direct_zone):
    client = Dns([direct_zone.address], timeout=1.0, direct=True)
    lookup = await client.txt("_dmarc.example.com")
    assert lookup.values == ("v=DMARC1; p=reject",)
    asked = [(q.qname, q.qtype) for q in direct_zone.queries]
    assert ("ns1.example.com", "A") in asked  # found the NS host's address
    assert ("example.com", "NS") in asked
    assert asked[-1] == ("_dmarc.example.com", "TXT")


async def test_direct_mode_uses_the_ns_address_not_the_configured_resolver(auth_server):
    """The resolver we are configured with answers NS/A for the zone but points at another
    server; direct mode must ask that other server (same port on a different loopback IP)."""
    with AuthServer(host="127.0.0.2", port=auth_server.address[1]) as authoritative:
        auth_server.add_zone("example.com", ns_ip="127.0.0.2")
        auth_server.set_txt("example.com", ["v=spf1 stale -all"])
        authoritative.add_zone("example.com", ns_ip="127.0.0.2")
        authoritative.set_txt("example.com", ["v=spf1 fresh -all"])
        recursive = await Dns([auth_server.address], timeout=1.0).txt("example.com")
        direct = await Dns([auth_server.address], timeout=1.0, direct=True).txt("example.com")
        assert recursive.values == ("v=spf1 stale -all",)
        assert direct.values == ("v=spf1 fresh -all",)
        assert authoritative.queries[-1] == ("example.com", "TXT", "udp")


async def test_direct_mode_keeps_outcomes(direct_zone):
    client = Dns([direct_zone.address], timeout=0.5, direct=True)
    assert (await client.txt("nothing.example.com")).outcome is Outcome.NXDOMAIN
    assert (await client.a("example.com")).outcome is Outcome.NODATA
    direct_zone.set_failure("_dmarc.example.com", "timeout")
    assert (await client.txt("_dmarc.example.com")).outcome is Outcome.TIMEOUT


async def test_direct_mode_many(direct_zone):
    client = Dns([direct_zone.address], timeout=1.0, direct=True)
    lookups = await client.many([("_dmarc.example.com", "TXT")] * 20)
    assert {lk.values for lk in lookups} == {("v=DMARC1; p=reject",)}


def test_direct_mode_sync(direct_zone):
    client = Dns([direct_zone.address], timeout=1.0, direct=True)
    assert client.lookup_sync("_dmarc.example.com", "TXT").values == ("v=DMARC1; p=reject",)
    assert ("example.com", "NS", "udp") in direct_zone.queries


# ------------------------------------------------------------------ --nameserver parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_parse_nameserver(text, expected):
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["ns1.example.com", "127.0.0.1:0", "127.0.0.1:99999", "1.2.3.4:x"])
def test_parse_nameserver_rejects(text):
    with pytest.raises(InvalidValue, match="--nameserver"):
        parse_nameserver(text)


async def test_cname_loop_within_one_server_is_failed(auth_server, make_zone, dns_client):
    make_zone("example.com", cname={"a.example.com": ["b.example.org."]})
    make_zone("example.org", cname={"b.example.org": ["a.example.com."]})
    lookup = await dns_client.txt("a.example.com")
    assert lookup.failed and "CNAME" in lookup.error


async def test_cname_loop_across_servers_is_an_error_not_absence(auth_server, make_zone):
    """Each server serves one zone, so the resolver itself follows the chain round."""
    make_zone("example.com", cname={"a.example.com": ["b.example.org."]})
    with AuthServer() as other:
        other.add_zone("example.org")
        other.set_records("b.example.org", "CNAME", ["a.example.com."])
        client = Dns([auth_server.address, other.address], timeout=1.0)
        lookup = await client.txt("a.example.com")
        assert lookup.outcome is Outcome.ERROR and "CNAME chain" in lookup.error
        assert client.lookup_sync("a.example.com", "TXT").outcome is Outcome.ERROR


async def test_direct_mode_uses_ipv6_ns_addresses_when_there_is_no_ipv4(auth_server):
    try:
        v6 = AuthServer(host="::1", port=auth_server.address[1]).start()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        auth_server.add_zone("example.com", ns_ip="::1")
        auth_server.set_txt("example.com", ["v=spf1 stale -all"])
        v6.add_zone("example.com", ns_ip="::1")
        v6.set_txt("example.com", ["v=spf1 fresh -all"])
        direct = Dns([auth_server.address], timeout=1.0, direct=True)
        assert (await direct.txt("example.com")).values == ("v=spf1 fresh -all",)
        assert direct.lookup_sync("example.com", "TXT").values == ("v=spf1 fresh -all",)
    finally:
        v6.stop()


# ------------------------------------------------------------------ one run's answer cache
def _asked(server: AuthServer, name: str, rtype: str) -> int:
    return sum(1 for q in server.queries if (q.qname, q.qtype) == (name, rtype))


async def test_run_cache_asks_each_question_once_async_concurrent_and_blocking(zone, dns_client):
    run = dns_client.with_run_cache()
    together = await asyncio.gather(*(run.txt("example.com") for _ in range(10)))
    again = await run.txt("example.com")
    blocking = await asyncio.to_thread(run.lookup_sync, "example.com", "TXT")
    answer = await asyncio.to_thread(run.sync_resolver().resolve, "example.com", "TXT")
    # one answer for all (RRset order on the wire is random, so compare sorted)
    assert {tuple(sorted(lookup.values)) for lookup in [*together, again, blocking]} == {
        ("google-site-verification=abc", "v=spf1 mx -all")
    }
    assert len(answer) == 2
    assert _asked(zone, "example.com", "TXT") == 1


async def test_run_cache_remembers_absence_but_never_a_failure(zone, dns_client):
    run = dns_client.with_run_cache()
    assert (await run.txt("nothere.example.com")).outcome is Outcome.NXDOMAIN
    assert (await run.txt("nothere.example.com")).outcome is Outcome.NXDOMAIN
    assert _asked(zone, "nothere.example.com", "TXT") == 1
    zone.set_failure("mail.example.com", "servfail")
    assert (await run.a("mail.example.com")).failed
    zone.set_failure("mail.example.com", None)
    assert (await run.a("mail.example.com")).values == ("192.0.2.10",)


async def test_a_fresh_run_sees_a_change_published_after_the_previous_run(zone, dns_client):
    first_run = dns_client.with_run_cache()
    assert (await first_run.txt("_dmarc.example.com")).values == ("v=DMARC1; p=none",)
    zone.set_txt("_dmarc.example.com", ["v=DMARC1; p=quarantine"])
    # the cache lives for one run: the next run (a re-verify) asks the server again
    assert (await dns_client.with_run_cache().txt("_dmarc.example.com")).values == (
        "v=DMARC1; p=quarantine",
    )
    assert (await dns_client.txt("_dmarc.example.com")).values == ("v=DMARC1; p=quarantine",)
    assert not dns_client.caching and first_run.caching


async def test_without_a_run_cache_every_lookup_goes_to_the_server(zone, dns_client):
    await dns_client.txt("example.com")
    await dns_client.txt("example.com")
    assert _asked(zone, "example.com", "TXT") == 2
