"""Scenario zones served by the loopback authoritative server, asked over the wire."""

from __future__ import annotations

from smewizard.sim import SCENARIOS


async def test_every_scenario_zone_loads_and_answers(sim_dns):
    for name in [n for n in SCENARIOS if not n.startswith("many-")]:
        sim, dns = sim_dns(name)
        lookup = await dns.lookup(f"mail.{sim.domains[0]}", "A")
        assert lookup.ok and list(lookup.values) == [sim.public_ip], name


async def test_demo_spf_and_ptr(sim_dns):
    sim, dns = sim_dns("demo")
    spf = await dns.txt("example.com")
    assert spf.ok and any(v.startswith("v=spf1 mx a ip4:203.0.113.10") for v in spf.values)
    assert (await dns.txt("shop.example.net")).absent
    ptr = await dns.ptr("203.0.113.10")
    assert ptr.ok and "static-203-0-113-10.cust.provider.example" in ptr.values[0]


async def test_long_dkim_record_is_joined_back_whole(sim_dns):
    sim, dns = sim_dns("good")
    txt = await dns.txt("mar2026._domainkey.example.com")
    assert txt.ok and len(txt.values) == 1 and len(txt.values[0]) > 255
    assert txt.values[0].startswith("v=DKIM1; k=rsa; p=MII")


async def test_dns_timeout_scenario_fails_as_declared(sim_dns):
    sim, dns = sim_dns("dns-timeout")
    assert (await dns.txt("example.org")).failed
    assert (await dns.txt("_dmarc.example.com")).failed
    assert (await dns.txt("example.com")).ok
