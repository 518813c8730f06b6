"""Worst-case DNS lookup counting (RFC 7208 4.6.4) and the corrected record we propose."""

from smewizard.mail.spf import (
    SpfFetch,
    count_lookups,
    lookups_after_proposal,
    parse_spf,
    propose_spf,
    targets_to_fetch,
)

D = "example.com"


def spf(*records: str) -> SpfFetch:
    return SpfFetch(records=records)


def test_counts_through_nested_includes_and_redirect():
    p = parse_spf("v=spf1 mx a ip4:192.0.2.1 include:a.example.net redirect=r.example.org")
    fetched = {
        "a.example.net": spf("v=spf1 include:b.example.net a:host.example.net -all"),
        "b.example.net": spf("v=spf1 ip4:198.51.100.0/24 exists:%{i}.x.example.net -all"),
        "r.example.org": spf("v=spf1 mx -all"),
    }
    count = count_lookups(p, D, fetched)
    # mx, a, include(1 + include(1 + exists) + a), redirect(1 + mx)
    assert count.total == 1 + 1 + (1 + (1 + 1) + 1) + (1 + 1)
    assert dict(count.by_term)["include:a.example.net"] == 4
    assert dict(count.by_term)["ip4:192.0.2.1"] == 0
    assert not count.too_many and not count.incomplete


def test_more_than_ten_is_too_many():
    p = parse_spf("v=spf1 " + " ".join(f"include:s{i}.example.net" for i in range(6)) + " -all")
    fetched = {f"s{i}.example.net": spf("v=spf1 a -all") for i in range(6)}
    count = count_lookups(p, D, fetched)
    assert count.total == 12
    assert count.too_many


def test_void_lookups_and_missing_include_targets_are_reported():
    p = parse_spf("v=spf1 a:gone1.example.com mx:gone2.example.com include:none.example.net -all")
    fetched = {"none.example.net": SpfFetch(absent=True)}
    hosts = {("gone1.example.com", "A"): True, ("gone2.example.com", "MX"): True}
    count = count_lookups(p, D, fetched, hosts)
    assert count.void == 3
    assert count.too_many_void
    assert count.problems == ("include:none.example.net has no SPF record (a permanent error)",)


def test_failed_target_makes_the_count_a_lower_bound():
    p = parse_spf("v=spf1 include:slow.example.net a:x.example.com -all")
    count = count_lookups(p, D, {"slow.example.net": SpfFetch(failed=True)}, {("x.example.com", "A"): None})
    assert count.incomplete
    assert count.total == 2
    assert count.void == 0  # a failure is not a void lookup


def test_include_loop_is_a_problem_not_a_hang():
    p = parse_spf("v=spf1 include:loop.example.net -all")
    count = count_lookups(p, D, {"loop.example.net": spf("v=spf1 include:loop.example.net -all")})
    assert any("loop" in problem for problem in count.problems)


def test_redirect_ignored_when_all_present_is_not_counted():
    p = parse_spf("v=spf1 -all redirect=r.example.org")
    assert count_lookups(p, D, {}).total == 0
    assert targets_to_fetch(p, D) == ((), ())


def test_targets_to_fetch_uses_the_domain_for_bare_a_and_mx_and_skips_macros():
    p = parse_spf("v=spf1 a mx:mx.example.net include:i.example.net exists:%{i}.e.example.net -all")
    assert targets_to_fetch(p, D) == (
        ("i.example.net",),
        (("example.com", "A"), ("mx.example.net", "MX")),
    )


# ------------------------------------------------------------------------------- propose_spf
def test_no_record_gets_server_and_relay_ips_and_softfail():
    assert propose_spf(None, ["203.0.113.10"], ["198.51.100.6"]) == "v=spf1 ip4:203.0.113.10 ip4:198.51.100.6 ~all"


def test_relay_missing_is_added_and_legit_mechanisms_kept_ptr_dropped():
    current = parse_spf("v=spf1 mx ptr include:_spf.example.net ip4:203.0.113.10 -all")
    proposed = propose_spf(current, ["203.0.113.10"], ["198.51.100.6"], passing={"203.0.113.10"})
    # -all becomes ~all because something was missing (the relay)
    assert proposed == "v=spf1 mx include:_spf.example.net ip4:203.0.113.10 ip4:198.51.100.6 ~all"


def test_hard_fail_kept_when_nothing_is_missing():
    current = parse_spf("v=spf1 ptr ip4:203.0.113.10 ip4:198.51.100.6 -all")
    proposed = propose_spf(current, ["203.0.113.10"], ["198.51.100.6"], passing={"203.0.113.10", "198.51.100.6"})
    assert proposed == "v=spf1 ip4:203.0.113.10 ip4:198.51.100.6 -all"


def test_plus_all_and_neutral_all_are_never_kept():
    for bad in ("+all", "?all", "all"):
        proposed = propose_spf(parse_spf(f"v=spf1 mx {bad}"), ["203.0.113.10"], [], passing={"203.0.113.10"})
        assert proposed == "v=spf1 mx ~all"


def test_allocated_subnet_replaces_single_ips_inside_it():
    proposed = propose_spf(parse_spf("v=spf1 mx ~all"), ["203.0.113.10"], ["203.0.113.6", "198.51.100.7"],
                           ["203.0.113.0/24"])
    assert proposed == "v=spf1 mx ip4:203.0.113.0/24 ip4:198.51.100.7 ~all"


def test_ips_already_covered_by_an_ip_term_are_not_repeated():
    proposed = propose_spf(parse_spf("v=spf1 ip4:203.0.113.0/28 ?all"), ["203.0.113.10"], [])
    assert proposed == "v=spf1 ip4:203.0.113.0/28 ~all"


def test_ipv6_addresses_use_ip6():
    assert propose_spf(None, ["2001:db8::25"], []) == "v=spf1 ip6:2001:db8::25 ~all"


def test_duplicates_removed_and_redirect_kept_without_all():
    current = parse_spf("v=spf1 a a redirect=_spf.example.net")
    assert propose_spf(current, ["203.0.113.10"], []) == "v=spf1 a ip4:203.0.113.10 redirect=_spf.example.net"


def test_exp_and_unknown_modifiers_survive():
    current = parse_spf("v=spf1 mx -all exp=why.example.com")
    assert propose_spf(current, ["203.0.113.10"], []) == "v=spf1 mx ip4:203.0.113.10 ~all exp=why.example.com"


def test_proposal_is_one_valid_record_with_fewer_lookups():
    current = parse_spf("v=spf1 ptr a mx include:i.example.net ~all")
    count = count_lookups(current, D, {"i.example.net": spf("v=spf1 a mx -all")})
    proposed = propose_spf(current, ["203.0.113.10"], [])
    parse_spf(proposed)
    assert count.total == 6
    assert lookups_after_proposal(count, proposed) == 5  # ptr gone


def test_dead_references_are_dropped():
    current = parse_spf("v=spf1 a:gone.example.com include:none.example.net ip4:203.0.113.10 ~all")
    proposed = propose_spf(current, ["203.0.113.10"], [], drop=("a:gone.example.com", "include:none.example.net"))
    assert proposed == "v=spf1 ip4:203.0.113.10 ~all"


def test_over_the_limit_a_and_mx_give_way_to_explicit_addresses():
    current = parse_spf("v=spf1 a mx include:big.example.net include:other.example.net ~all")
    fetched = {"big.example.net": spf("v=spf1 " + " ".join(f"a:h{i}.example.net" for i in range(6)) + " -all"),
               "other.example.net": spf("v=spf1 a -all")}
    count = count_lookups(current, D, fetched)
    assert count.total == 11
    proposed = propose_spf(current, ["203.0.113.10"], [], passing={"203.0.113.10"}, costs=dict(count.by_term))
    assert proposed == "v=spf1 include:big.example.net include:other.example.net ip4:203.0.113.10 ~all"
    assert lookups_after_proposal(count, proposed) == 9
