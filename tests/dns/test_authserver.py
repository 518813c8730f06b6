"""The embedded authoritative server, queried over real sockets with dnspython's dns.query."""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from smewizard.dns.authserver import AuthServer, ZoneError
from smewizard.model import Record

ZONE = """\
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1.example.com. hostmaster.example.com. 2026010101 3600 600 86400 300
@       IN NS  ns1.example.com.
@       IN MX  10 mail.example.com.
@       IN TXT "v=spf1 mx -all"
ns1     IN A   127.0.0.1
mail    IN A   192.0.2.10
mail    IN AAAA 2001:db8::10
www     IN CNAME mail
alias   IN CNAME www
away    IN CNAME mail.example.org.
_dmarc  IN TXT "v=DMARC1; p=none"
a.b.deep IN A 192.0.2.99
*.wild  IN TXT "wildcard"
sub     IN NS  ns.sub.example.com.
ns.sub  IN A   192.0.2.53
"""


@pytest.fixture
def server(auth_server: AuthServer) -> AuthServer:
    auth_server.add_zone_text("example.com", ZONE)
    return auth_server


def ask(server: AuthServer, name: str, rtype: str, *, tcp: bool = False, **query_args):
    query = dns.message.make_query(name, rtype, **query_args)
    host, port = server.address
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, host, port=port, timeout=2)


def texts(response, rtype: str) -> list[str]:
    wanted = dns.rdatatype.from_text(rtype)
    return sorted(
        rd.to_text() for rrset in response.answer if rrset.rdtype == wanted for rd in rrset
    )


def test_answers_authoritatively_over_udp_and_tcp_on_the_same_port(server):
    for tcp in (False, True):
        response = ask(server, "mail.example.com", "A", tcp=tcp)
        assert response.rcode() == dns.rcode.NOERROR
        assert response.flags & dns.flags.AA
        assert texts(response, "A") == ["192.0.2.10"]
    assert [q.transport for q in server.queries] == ["udp", "tcp"]


def test_raw_udp_socket_query_gets_a_wire_format_answer(server):
    query = dns.message.make_query("example.com", "MX")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query.to_wire(), server.address)
        wire, _ = sock.recvfrom(65535)
    response = dns.message.from_wire(wire)
    assert response.id == query.id
    assert texts(response, "MX") == ["10 mail.example.com."]
    glue = sorted((rrset.name.to_text(), rrset.rdtype) for rrset in response.additional)
    assert glue == [
        ("mail.example.com.", dns.rdatatype.A),
        ("mail.example.com.", dns.rdatatype.AAAA),
    ]


def test_nxdomain_carries_the_soa_in_authority(server):
    response = ask(server, "nope.example.com", "A")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]
    assert response.authority[0].ttl == 300  # min(SOA TTL, SOA minimum)


def test_nodata_is_noerror_with_soa_and_empty_answer(server):
    response = ask(server, "mail.example.com", "TXT")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


def test_empty_non_terminal_is_nodata_not_nxdomain(server):
    response = ask(server, "b.deep.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []


def test_cname_chain_is_followed_inside_the_zone(server):
    response = ask(server, "alias.example.com", "A")
    assert [rrset.rdtype for rrset in response.answer] == [
        dns.rdatatype.CNAME,
        dns.rdatatype.CNAME,
        dns.rdatatype.A,
    ]
    assert texts(response, "A") == ["192.0.2.10"]


def test_cname_out_of_our_zones_is_returned_alone(server):
    response = ask(server, "away.example.com", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.CNAME]


def test_query_for_the_cname_itself_returns_it(server):
    response = ask(server, "www.example.com", "CNAME")
    assert texts(response, "CNAME") == ["mail.example.com."]


def test_wildcard_is_synthesised_under_the_queried_name(server):
    response = ask(server, "anything.wild.example.com", "TXT")
    assert response.answer[0].name.to_text() == "anything.wild.example.com."
    assert texts(response, "TXT") == ['"wildcard"']


def test_delegation_below_the_apex_is_a_referral(server):
    response = ask(server, "host.sub.example.com", "A")
    assert not response.flags & dns.flags.AA
    assert response.answer == []
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.NS]
    assert [rrset.name.to_text() for rrset in response.additional] == ["ns.sub.example.com."]


def test_names_outside_every_zone_are_refused(server):
    response = ask(server, "example.org", "A")
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA


def test_edns_query_gets_an_opt_record_back(server):
    response = ask(server, "example.com", "TXT", use_edns=0, payload=1232)
    assert response.edns == 0
    assert response.rcode() == dns.rcode.NOERROR


def test_long_txt_is_truncated_over_udp_and_whole_over_tcp(server):
    server.set_txt("long.example.com", ["v=DKIM1; k=rsa; p=" + "A" * 5000])
    udp = ask(server, "long.example.com", "TXT")
    assert udp.flags & dns.flags.TC
    assert udp.answer == []
    tcp = ask(server, "long.example.com", "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC
    strings = tcp.answer[0][0].strings
    assert max(len(s) for s in strings) == 255
    assert b"".join(strings).decode() == "v=DKIM1; k=rsa; p=" + "A" * 5000


def test_udp_limit_follows_the_clients_edns_payload(server):
    server.set_txt("mid.example.com", ["x" * 800])
    assert ask(server, "mid.example.com", "TXT").flags & dns.flags.TC
    response = ask(server, "mid.example.com", "TXT", use_edns=0, payload=1232)
    assert not response.flags & dns.flags.TC
    assert len(response.answer) == 1


def test_changes_are_visible_to_the_next_query(server):
    before = ask(server, "example.com", "TXT")
    server.set_txt("example.com", ["v=spf1 ip4:192.0.2.10 -all"])
    after = ask(server, "example.com", "TXT")
    assert texts(before, "TXT") == ['"v=spf1 mx -all"']
    assert texts(after, "TXT") == ['"v=spf1 ip4:192.0.2.10 -all"']


def test_set_records_takes_presentation_format_and_absolute_names(server):
    server.set_records("example.com", "MX", ["10 mx1.example.net", "20 mx2.example.net."], ttl=60)
    response = ask(server, "example.com", "MX")
    assert texts(response, "MX") == ["10 mx1.example.net.", "20 mx2.example.net."]
    assert response.answer[0].ttl == 60


def test_set_records_creates_new_names_and_delete_removes_them(server):
    server.set_records("new.example.com", "A", ["192.0.2.77"])
    assert texts(ask(server, "new.example.com", "A"), "A") == ["192.0.2.77"]
    server.delete_records("new.example.com", "A")
    assert ask(server, "new.example.com", "A").rcode() == dns.rcode.NXDOMAIN


def test_delete_one_type_keeps_the_others(server):
    server.delete_records("mail.example.com", "AAAA")
    assert ask(server, "mail.example.com", "AAAA").answer == []
    assert texts(ask(server, "mail.example.com", "A"), "A") == ["192.0.2.10"]


def test_publish_replaces_only_the_txt_with_the_same_version_tag(server):
    server.set_txt("example.com", ["v=spf1 mx -all", "google-site-verification=abc"])
    server.publish(Record("example.com", "TXT", "v=spf1 ip4:192.0.2.10 -all"))
    assert texts(ask(server, "example.com", "TXT"), "TXT") == [
        '"google-site-verification=abc"',
        '"v=spf1 ip4:192.0.2.10 -all"',
    ]


def test_publish_non_txt_record_replaces_the_rrset(server):
    server.publish(Record("mail.example.com", "A", "192.0.2.11", ttl=120))
    assert texts(ask(server, "mail.example.com", "A"), "A") == ["192.0.2.11"]


def test_every_change_bumps_the_soa_serial(server):
    def serial():
        return ask(server, "example.com", "SOA").answer[0][0].serial

    first = serial()
    server.set_txt("example.com", ["v=spf1 -all"])
    assert serial() == first + 1


def test_ptr_zone_answers_reverse_lookups(auth_server):
    auth_server.add_zone("113.0.203.in-addr.arpa")
    auth_server.set_records("10.113.0.203.in-addr.arpa", "PTR", ["mail.example.com."])
    response = ask(auth_server, "10.113.0.203.in-addr.arpa", "PTR")
    assert response.flags & dns.flags.AA
    assert texts(response, "PTR") == ["mail.example.com."]


@pytest.mark.parametrize(
    "kind, rcode", [("servfail", dns.rcode.SERVFAIL), ("refused", dns.rcode.REFUSED)]
)
def test_failure_injection_returns_the_error_rcode(server, kind, rcode):
    server.set_failure("example.com", kind)
    assert ask(server, "example.com", "TXT").rcode() == rcode
    assert ask(server, "mail.example.com", "A").rcode() == dns.rcode.NOERROR  # exact name only
    server.set_failure("example.com", None)
    assert ask(server, "example.com", "TXT").rcode() == dns.rcode.NOERROR


def test_failure_on_a_subtree_covers_the_names_below(server):
    server.set_failure("example.com", "servfail", subtree=True)
    assert ask(server, "mail.example.com", "A").rcode() == dns.rcode.SERVFAIL
    assert ask(server, "x.y.example.com", "A").rcode() == dns.rcode.SERVFAIL


@pytest.mark.parametrize("tcp", [False, True])
def test_timeout_failure_sends_nothing(server, tcp):
    server.set_failure("example.com", "timeout")
    with pytest.raises(dns.exception.Timeout):
        ask_with_timeout(server, "example.com", tcp, 0.3)
    assert server.queries[-1] == ("example.com", "TXT", "tcp" if tcp else "udp")


def ask_with_timeout(server, name, tcp, timeout):
    query = dns.message.make_query(name, "TXT")
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, server.address[0], port=server.address[1], timeout=timeout)


def test_query_log_records_and_clears(server):
    ask(server, "Mail.Example.com", "aaaa")
    assert server.queries == [("mail.example.com", "AAAA", "udp")]
    server.clear_queries()
    assert server.queries == []


def test_zone_text_round_trips_current_data(server, auth_server):
    server.set_txt("example.com", ["v=spf1 a -all", "x" * 300])
    text = server.zone_text("example.com")
    assert text.startswith("$ORIGIN example.com.")
    other = AuthServer()
    other.add_zone_text("example.com", text)
    assert other.zone_text("example.com") == text
    assert server.origins() == ["example.com"]


def test_zone_file_is_loaded_with_its_own_origin(tmp_path, auth_server):
    path = tmp_path / "db.example.com"
    path.write_text(ZONE)
    assert auth_server.add_zone_file(path) == "example.com"
    assert texts(ask(auth_server, "mail.example.com", "A"), "A") == ["192.0.2.10"]


def test_bad_zone_text_is_a_clear_error(auth_server):
    with pytest.raises(ZoneError, match="example.com"):
        auth_server.add_zone_text("example.com", "$ORIGIN example.com.\n@ IN A not-an-ip\n")


def test_record_outside_every_zone_is_a_clear_error(server):
    with pytest.raises(ZoneError, match="not inside any zone"):
        server.set_txt("example.org", ["v=spf1 -all"])


def test_invalid_value_is_a_clear_error(server):
    with pytest.raises(ZoneError, match="192.0.2"):
        server.set_records("mail.example.com", "A", ["192.0.2"])


def test_garbage_datagram_does_not_stop_the_server(server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00\x01garbage", server.address)
        sock.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff", server.address)
        sock.settimeout(2)
        wire, _ = sock.recvfrom(512)
    assert dns.message.from_wire(wire, question_only=True).rcode() == dns.rcode.FORMERR
    assert texts(ask(server, "mail.example.com", "A"), "A") == ["192.0.2.10"]


def test_explicit_port_and_restart(auth_server):
    port = auth_server.address[1]
    auth_server.stop()
    with AuthServer(port=port) as again:
        again.add_zone("example.com")
        assert again.address == ("127.0.0.1", port)
        assert ask(again, "example.com", "NS", tcp=True).rcode() == dns.rcode.NOERROR


def test_publish_obsolete_spf_type_keeps_the_value_whole(server):
    server.publish(Record("example.com", "SPF", "v=spf1 mx -all"))
    response = ask(server, "example.com", "SPF")
    assert [b"".join(rd.strings) for rd in response.answer[0]] == [b"v=spf1 mx -all"]
    assert texts(ask(server, "example.com", "TXT"), "TXT") == ['"v=spf1 mx -all"']


def test_publish_long_dkim_record_is_chunked(server):
    key = "v=DKIM1; k=rsa; p=" + "B" * 400
    server.publish(Record("feb2026._domainkey.example.com", "TXT", key))
    strings = ask(server, "feb2026._domainkey.example.com", "TXT", tcp=True).answer[0][0].strings
    assert [len(s) for s in strings] == [255, len(key) - 255]


# ------------------------------------------------------------------ simulated latency
def _send_queries(server: AuthServer, count: int) -> list[tuple[socket.socket, int]]:
    sent = []
    for i in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(5)
        query = dns.message.make_query(f"n{i}.wild.example.com", "TXT")
        sock.sendto(query.to_wire(), server.address)
        sent.append((sock, query.id))
    return sent


def test_delayed_udp_answers_do_not_wait_for_each_other(server):
    server.set_latency(0.05)
    sent = _send_queries(server, 20)
    try:
        first = dns.message.from_wire(sent[0][0].recvfrom(4096)[0])
        # A server that slept before each reply would have read only one or two queries by
        # the time the first answer came back; ours had all 20 in flight at once.
        in_flight_when_first_answered = len(server.queries)
        answers = [first] + [dns.message.from_wire(s.recvfrom(4096)[0]) for s, _ in sent[1:]]
    finally:
        for sock, _ in sent:
            sock.close()
    assert in_flight_when_first_answered == 20
    assert [a.id for a in answers] == [qid for _, qid in sent]
    assert all(texts(a, "TXT") == ['"wildcard"'] for a in answers)


def test_delayed_tcp_connections_do_not_wait_for_each_other(server):
    server.set_latency(0.05)
    conns = []
    try:
        for i in range(5):
            conn = socket.create_connection(server.address, timeout=5)
            wire = dns.message.make_query(f"t{i}.wild.example.com", "TXT").to_wire()
            conn.sendall(len(wire).to_bytes(2, "big") + wire)
            conns.append(conn)
        length = int.from_bytes(conns[0].recv(2), "big")
        in_flight_when_first_answered = len(server.queries)
        first = dns.message.from_wire(conns[0].recv(length))
    finally:
        for conn in conns:
            conn.close()
    assert in_flight_when_first_answered == 5
    assert texts(first, "TXT") == ['"wildcard"']


@pytest.mark.parametrize("tcp", [False, True])
def test_no_answer_arrives_before_its_latency_and_zero_turns_it_off(server, tcp):
    server.set_latency(0.5)
    with pytest.raises(dns.exception.Timeout):
        ask_with_timeout(server, "example.com", tcp, 0.05)
    server.set_latency(0)
    assert server.latency == 0
    assert texts(ask_with_timeout(server, "example.com", tcp, 2), "TXT") == ['"v=spf1 mx -all"']


def test_latency_given_at_construction_and_bad_values_refused():
    assert AuthServer(latency=0.02).latency == 0.02
    for bad in (-1, float("nan"), "soon", 61):
        with pytest.raises(ValueError, match="latency"):
            AuthServer(latency=bad)


def test_stop_with_replies_still_waiting_ends_the_delay_thread(server):
    server.set_latency(30)
    sent = _send_queries(server, 3)
    try:
        for _ in range(500):
            if len(server.queries) == 3:
                break
            threading.Event().wait(0.01)
        assert len(server.queries) == 3
        server.stop()
    finally:
        for sock, _ in sent:
            sock.close()
    delay_threads = [t for t in threading.enumerate() if t.name.startswith("authserver-delay")]
    assert not [t for t in delay_threads if t.is_alive()]
