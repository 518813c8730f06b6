"""run_audit: one audit shares its DNS answers between steps and SPF evaluations, and the
next audit (a re-verify after publishing) asks the server again."""

from __future__ import annotations

from smewizard.engine import run_audit, run_context
from smewizard.model import Record
from smewizard.steps.base import Context


def _asked(server, name: str, rtype: str) -> int:
    return sum(1 for q in server.queries if (q.qname, q.qtype) == (name, rtype))


async def test_one_audit_asks_each_spf_record_once_for_all_evaluations(sim_dns, auth_server):
    sim, dns = sim_dns("demo")
    result = await run_audit(Context(host=sim.host(), dns=dns), ["spf"])
    example = next(d for d in result.facts["spf"].domains if d.domain == "example.com")
    assert len(example.evaluations) == 2  # pyspf evaluated two senders, each reading the record
    assert _asked(auth_server, "example.com", "TXT") == 1
    assert not dns.caching  # the caller's client is left as it was


async def test_the_next_audit_sees_a_record_published_after_the_previous_one(sim_dns, auth_server):
    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns)
    before = await run_audit(ctx, ["spf"])
    auth_server.publish(Record("example.org", "TXT", "v=spf1 ip4:203.0.113.10 -all"))
    after = await run_audit(ctx, ["spf"])
    assert _records(before, "example.org") == ("v=spf1 a mx ptr ~all",)
    assert _records(after, "example.org") == ("v=spf1 ip4:203.0.113.10 -all",)


def _records(result, domain: str) -> tuple[str, ...]:
    return next(d.records for d in result.facts["spf"].domains if d.domain == domain)


def test_run_context_gives_every_run_its_own_cache(sim_dns):
    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns, public_ips=("203.0.113.10",))
    first, second = run_context(ctx), run_context(ctx)
    assert first.dns.caching and second.dns.caching
    assert first.dns._answers is not second.dns._answers
    assert (first.host, first.public_ips, first.dns.nameservers) == (ctx.host, ctx.public_ips, dns.nameservers)


def test_each_run_reads_the_clock_unless_the_context_pins_a_time():
    from datetime import UTC, datetime

    from smewizard.dns import Dns
    from smewizard.engine import run_context
    from smewizard.host import LocalHost
    from smewizard.steps.base import Context

    open_for_days = Context(host=LocalHost("/"), dns=Dns([("127.0.0.1", 9)]))
    before = datetime.now(UTC)
    first = run_context(open_for_days)
    second = run_context(open_for_days)
    assert before <= first.now <= second.now <= datetime.now(UTC)  # not the app's start time
    pinned = datetime(2026, 1, 1, tzinfo=UTC)
    assert run_context(Context(host=LocalHost("/"), dns=Dns([("127.0.0.1", 9)]), now=pinned)).now == pinned
