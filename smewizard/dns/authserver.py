"""An embedded authoritative DNS server on loopback, for the demo and the tests.

It speaks the real wire protocol over UDP and TCP on one port, serves BIND zone files, and can
be told at run time that a record was published, changed or deleted (the demo's "publish, then
re-verify"). It can also be told to misbehave for one name (no answer, SERVFAIL, REFUSED), so
that "could not tell" outcomes are exercised over real sockets, and to answer every query only
after a delay (`latency`), so benchmarks see the round trip a real resolver costs instead of
loopback's ~0 ms. A delayed answer never holds up other queries: UDP replies wait in a timer
heap sent by their own thread, TCP replies wait in their connection's thread.

The server runs in background threads, so it works the same from plain tests, from asyncio
tests and from inside a running Textual app. Zone data is guarded by one lock: a change is
visible to the next query.
"""

from __future__ import annotations

import heapq
import itertools
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.node
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.SPF
import dns.rdtypes.ANY.TXT
import dns.rrset
import dns.zone

from smewizard.model import Record, txt_chunks

FailureKind = Literal["timeout", "servfail", "refused"]
FAILURE_KINDS: tuple[str, ...] = ("timeout", "servfail", "refused")

#: Largest UDP reply to a query without EDNS (RFC 1035 4.2.1).
CLASSIC_UDP_SIZE = 512
#: What we advertise in our own OPT record.
OUR_EDNS_PAYLOAD = 1232
#: How long an idle TCP client may keep a connection open.
TCP_IDLE_SECONDS = 10.0
#: Longest CNAME chain we follow inside our zones.
MAX_CNAME_CHAIN = 8

_IN = dns.rdataclass.IN
_SOA = dns.rdatatype.SOA
_NS = dns.rdatatype.NS
_CNAME = dns.rdatatype.CNAME
_TXT = dns.rdatatype.TXT
_TXT_LIKE = (dns.rdatatype.TXT, dns.rdatatype.SPF)  # raw text, split into 255-octet strings
_SELF_TAGS = ("v=spf1", "v=dkim1", "v=dmarc1")


class ZoneError(ValueError):
    """Zone data the server cannot take: bad zone-file text, a name outside every zone,
    a value that is not valid presentation format. The message says which."""


class QueryLogEntry(NamedTuple):
    """One query the server received; a plain tuple (qname, qtype, transport)."""

    qname: str
    qtype: str
    transport: str


def _name(text: str | dns.name.Name) -> dns.name.Name:
    """A user-given name as an absolute, lowercase dnspython name ("example.com" == "example.com.")."""
    if isinstance(text, dns.name.Name):
        name = text if text.is_absolute() else text.concatenate(dns.name.root)
    else:
        try:
            name = dns.name.from_text(text.strip(), origin=dns.name.root)
        except dns.exception.DNSException as exc:
            raise ZoneError(f"{text!r} is not a valid DNS name: {exc}") from None
    return name.canonicalize()


def _plain(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else "."


def minimal_zone_text(
    origin: str, ns_ip: str = "127.0.0.1", ttl: int = 300, serial: int = 1
) -> str:
    """Zone-file text for a zone with only SOA, one NS (ns1.<origin>) and its glue address.

    The glue is the loopback address the embedded server listens on, so a resolver in
    "direct" mode finds its way back to the same server."""
    origin = _plain(_name(origin))
    return (
        f"$ORIGIN {origin}.\n"
        f"$TTL {ttl}\n"
        f"@ IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 {ttl}\n"
        f"@ IN NS ns1.{origin}.\n"
        f"ns1 IN {'AAAA' if ':' in ns_ip else 'A'} {ns_ip}\n"
    )


class AuthServer:
    """Authoritative DNS on `host`:`port` (port 0 picks a free one; UDP and TCP share it)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0):
        self.host = host
        self._requested_port = port
        self._latency = _checked_latency(latency)
        # UDP replies waiting for their latency: (due, sequence, wire, peer), earliest first.
        self._delayed: list[tuple[float, int, bytes, object]] = []
        self._delayed_ready = threading.Condition()
        self._sequence = itertools.count()
        self._sender: threading.Thread | None = None
        self._zones: dict[dns.name.Name, dns.zone.Zone] = {}
        self._failures: dict[dns.name.Name, tuple[str, bool]] = {}
        self._lock = threading.RLock()
        #: Every query received, in order, as (qname, qtype, transport) — qname lowercase
        #: without the final dot, qtype like "TXT", transport "udp" or "tcp".
        self.queries: list[QueryLogEntry] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        self._port = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> AuthServer:
        if self._thread is not None:
            return self
        self._udp, self._tcp = self._bind()
        self._port = self._udp.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, name=f"authserver:{self._port}", daemon=True
        )
        self._thread.start()
        self._sender = threading.Thread(
            target=self._send_delayed, name=f"authserver-delay:{self._port}", daemon=True
        )
        self._sender.start()
        return self

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        thread.join(timeout=5)
        with self._delayed_ready:
            self._delayed.clear()  # replies still waiting are dropped, as by a stopped server
            self._delayed_ready.notify_all()
        if self._sender is not None:
            self._sender.join(timeout=5)
            self._sender = None
        with self._lock:
            conns, workers = list(self._conns), list(self._conn_threads)
        for conn in conns:
            _close(conn, shutdown=True)
        for worker in workers:
            worker.join(timeout=2)
        for sock in (self._udp, self._tcp, self._wake_r, self._wake_w):
            _close(sock)
        self._udp = self._tcp = self._wake_r = self._wake_w = None
        self._thread = None

    def __enter__(self) -> AuthServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """(ip, port) actually bound; valid after start()."""
        if self._thread is None:
            raise RuntimeError("AuthServer.address is only known after start()")
        return self.host, self._port

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def latency(self) -> float:
        """Seconds every answer waits before it is sent (0: at once)."""
        return self._latency

    def set_latency(self, seconds: float) -> None:
        """Delay every later answer by `seconds` (a simulated network round trip); 0 turns
        it off. Queries stay concurrent: each reply waits on its own, none blocks another."""
        self._latency = _checked_latency(seconds)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        attempts = 1 if self._requested_port else 50
        last: OSError | None = None
        for _ in range(attempts):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            try:
                udp.bind((self.host, self._requested_port))
                port = udp.getsockname()[1]
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((self.host, port))
                tcp.listen(64)
            except OSError as exc:  # TCP port taken by someone else: try another pair
                _close(udp)
                _close(tcp)
                last = exc
                continue
            udp.setblocking(False)
            tcp.setblocking(False)
            return udp, tcp
        raise OSError(f"AuthServer could not bind UDP+TCP on {self.host}: {last}")

    # ------------------------------------------------------------------ zone data
    def add_zone_text(self, origin: str, text: str) -> None:
        """Serve a zone from BIND zone-file text (replacing a zone with the same origin)."""
        zone_origin = _name(origin)
        try:
            zone = dns.zone.from_text(text, origin=zone_origin, relativize=False, check_origin=True)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ZoneError(f"zone {_plain(zone_origin)}: {exc}") from None
        with self._lock:
            self._zones[zone_origin] = zone

    def add_zone_file(self, path: str | Path, origin: str | None = None) -> str:
        """Serve a zone file. Without `origin` the file's $ORIGIN is used. Returns the origin."""
        text = Path(path).read_text(encoding="utf-8")
        if origin is None:
            origin = _origin_directive(text)
            if origin is None:
                raise ZoneError(f"{path}: no $ORIGIN line; pass origin= explicitly")
        self.add_zone_text(origin, text)
        return _plain(_name(origin))

    def add_zone(
        self,
        origin: str,
        records: Iterable[Record] = (),
        ns_ip: str = "127.0.0.1",
        ttl: int = 300,
    ) -> None:
        """A minimal zone (SOA, NS ns1.<origin> with glue `ns_ip`) plus `records`."""
        self.add_zone_text(origin, minimal_zone_text(origin, ns_ip=ns_ip, ttl=ttl))
        for record in records:
            self.publish(record)

    def remove_zone(self, origin: str) -> None:
        with self._lock:
            self._zones.pop(_name(origin), None)

    def origins(self) -> list[str]:
        with self._lock:
            return sorted(_plain(o) for o in self._zones)

    def zone_text(self, origin: str) -> str:
        """The zone's current data as zone-file text (with $ORIGIN)."""
        with self._lock:
            zone = self._zones.get(_name(origin))
            if zone is None:
                raise ZoneError(
                    f"no zone {origin!r} is served (zones: {', '.join(self.origins()) or 'none'})"
                )
            return zone.to_text(relativize=True, want_origin=True)

    def set_records(self, name: str, rtype: str, values: list[str], ttl: int = 300) -> None:
        """Replace the RRset `name`/`rtype` with `values` (zone-file presentation format;
        names inside values are absolute with or without the final dot)."""
        rdtype = _rdtype(rtype)
        rdatas = []
        for value in values:
            try:
                rdatas.append(
                    dns.rdata.from_text(_IN, rdtype, value, origin=dns.name.root, relativize=False)
                )
            except (dns.exception.DNSException, ValueError) as exc:
                raise ZoneError(f"{rtype} value {value!r} for {name}: {exc}") from None
        self._replace(name, rdtype, rdatas, ttl)

    def set_txt(self, name: str, values: list[str], ttl: int = 300) -> None:
        """Replace the TXT RRset with one record per raw value, each split into
        character-strings of at most 255 octets."""
        self._replace(name, _TXT, [_txt_rdata(v) for v in values], ttl)

    def publish(self, record: Record) -> None:
        """Publish a record the wizard proposed, as an admin would at the registrar.

        A TXT (or obsolete SPF-type) record that starts with a version tag (v=spf1, v=DKIM1, v=DMARC1) replaces the
        existing TXT records with the same tag at that name and keeps the others (a site
        verification string next to SPF stays). Any other record replaces its RRset."""
        rdtype = _rdtype(record.rtype)
        if rdtype not in _TXT_LIKE:
            self.set_records(record.name, record.rtype, [record.value], record.ttl)
            return
        tag = _txt_tag(record.value)
        with self._lock:
            kept = [
                v
                for v in self._rdatas(record.name, rdtype)
                if tag is None or _txt_tag_rdata(v) != tag
            ]
            new = _txt_rdata(record.value, rdtype)
            self._replace(record.name, rdtype, [*kept, new], record.ttl)

    def delete_records(self, name: str, rtype: str | None = None) -> None:
        """Delete one RRset, or every record at `name` when `rtype` is None."""
        owner = _name(name)
        with self._lock:
            zone = self._zone_of_owner(owner)
            if rtype is None:
                zone.delete_node(owner)
            else:
                zone.delete_rdataset(owner, _rdtype(rtype))
            self._bump_serial(zone)

    def _rdatas(self, name: str, rdtype: dns.rdatatype.RdataType) -> list[dns.rdata.Rdata]:
        owner = _name(name)
        zone = self._zone_of_owner(owner)
        rdataset = zone.get_rdataset(owner, rdtype)
        return list(rdataset) if rdataset else []

    def _replace(self, name: str, rdtype: dns.rdatatype.RdataType, rdatas: list, ttl: int) -> None:
        owner = _name(name)
        rdataset = dns.rdataset.Rdataset(_IN, rdtype)
        for rdata in rdatas:
            rdataset.add(rdata, ttl)
        rdataset.update_ttl(ttl)
        with self._lock:
            zone = self._zone_of_owner(owner)
            if rdatas:
                zone.replace_rdataset(owner, rdataset)
            else:
                zone.delete_rdataset(owner, rdtype)
            self._bump_serial(zone)

    def _zone_of_owner(self, owner: dns.name.Name) -> dns.zone.Zone:
        zone = self._zone_for(owner)
        if zone is None:
            zones = ", ".join(self.origins()) or "none"
            raise ZoneError(
                f"{_plain(owner)} is not inside any zone this server has (zones: {zones})"
            )
        return zone

    def _zone_for(self, qname: dns.name.Name) -> dns.zone.Zone | None:
        best = None
        for origin, zone in self._zones.items():
            if qname.is_subdomain(origin) and (best is None or len(origin) > len(best.origin)):
                best = zone
        return best

    @staticmethod
    def _bump_serial(zone: dns.zone.Zone) -> None:
        soa = zone.get_rdataset(zone.origin, _SOA)
        if soa:
            new = soa[0].replace(serial=(soa[0].serial + 1) % 2**32)
            rdataset = dns.rdataset.from_rdata(soa.ttl, new)
            zone.replace_rdataset(zone.origin, rdataset)
            apex = zone.get_node(zone.origin)
            apex.rdatasets.sort(key=lambda r: r.rdtype != _SOA)  # SOA first in zone_text()

    # ------------------------------------------------------------------ failures and log
    def set_failure(self, name: str, kind: FailureKind | None, *, subtree: bool = False) -> None:
        """Make queries for `name` (and, with subtree=True, every name below it) fail:
        "timeout" (no response at all, UDP or TCP), "servfail", "refused"; None clears it."""
        owner = _name(name)
        if kind is not None and kind not in FAILURE_KINDS:
            raise ValueError(
                f"failure kind must be one of {', '.join(FAILURE_KINDS)} or None, not {kind!r}"
            )
        with self._lock:
            if kind is None:
                self._failures.pop(owner, None)
            else:
                self._failures[owner] = (kind, subtree)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def clear_queries(self) -> None:
        with self._lock:
            self.queries.clear()

    def _failure_for(self, qname: dns.name.Name) -> str | None:
        exact = self._failures.get(qname)
        if exact:
            return exact[0]
        for owner, (kind, subtree) in self._failures.items():
            if subtree and qname.is_subdomain(owner):
                return kind
        return None

    # ------------------------------------------------------------------ network loop
    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._udp, selectors.EVENT_READ, "udp")
        selector.register(self._tcp, selectors.EVENT_READ, "tcp")
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.data == "udp":
                        self._serve_udp()
                    elif key.data == "tcp":
                        self._accept_tcp()
        finally:
            selector.close()

    def _serve_udp(self) -> None:
        while True:
            try:
                wire, peer = self._udp.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            reply = self._reply(wire, "udp")
            if reply is None:
                continue
            latency = self._latency
            if latency > 0:
                self._send_later(time.monotonic() + latency, reply, peer)
                continue
            try:
                self._udp.sendto(reply, peer)
            except OSError:
                pass

    def _send_later(self, due: float, reply: bytes, peer) -> None:
        with self._delayed_ready:
            heapq.heappush(self._delayed, (due, next(self._sequence), reply, peer))
            self._delayed_ready.notify()

    def _send_delayed(self) -> None:
        """Send each delayed UDP reply when it is due (one thread for all of them)."""
        while True:
            with self._delayed_ready:
                if self._stopping.is_set():  # checked under the lock stop() notifies with
                    return
                if not self._delayed:
                    self._delayed_ready.wait()
                    continue
                wait = self._delayed[0][0] - time.monotonic()
                if wait > 0:
                    self._delayed_ready.wait(wait)
                    continue
                _, _, reply, peer = heapq.heappop(self._delayed)
            udp = self._udp
            if udp is None:
                return
            try:
                udp.sendto(reply, peer)
            except OSError:
                pass

    def _accept_tcp(self) -> None:
        try:
            conn, _ = self._tcp.accept()
        except OSError:
            return
        conn.setblocking(True)
        conn.settimeout(TCP_IDLE_SECONDS)
        worker = threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True)
        with self._lock:
            self._conns.add(conn)
            self._conn_threads.add(worker)
        worker.start()

    def _serve_tcp(self, conn: socket.socket) -> None:
        try:
            while not self._stopping.is_set():
                header = _recv_exact(conn, 2)
                if header is None:
                    return
                wire = _recv_exact(conn, struct.unpack("!H", header)[0])
                if wire is None:
                    return
                reply = self._reply(wire, "tcp")
                if reply is not None:  # None = "timeout" failure: keep the client waiting
                    if self._latency > 0 and self._stopping.wait(self._latency):
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            _close(conn)
            with self._lock:
                self._conns.discard(conn)
                self._conn_threads.discard(threading.current_thread())

    # ------------------------------------------------------------------ answering
    def _reply(self, wire: bytes, transport: str) -> bytes | None:
        """The response's wire form, or None when nothing must be sent."""
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return None
        except dns.exception.DNSException:
            return _formerr(wire)
        if query.flags & dns.flags.QR:
            return None
        try:
            return self._respond(query, transport)
        except Exception:  # noqa: BLE001 - one bad query must never stop the server
            response = dns.message.make_response(query, our_payload=OUR_EDNS_PAYLOAD)
            return _emptied(response, dns.rcode.SERVFAIL).to_wire()

    def _respond(self, query: dns.message.Message, transport: str) -> bytes | None:
        response = dns.message.make_response(query, our_payload=OUR_EDNS_PAYLOAD)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response.to_wire()
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        if query.edns > 0:
            response.set_rcode(dns.rcode.BADVERS)
            return response.to_wire()
        question = query.question[0]
        qname = question.name.canonicalize()
        self.queries.append(
            QueryLogEntry(_plain(qname), dns.rdatatype.to_text(question.rdtype), transport)
        )
        with self._lock:
            failure = self._failure_for(qname)
            if failure == "timeout":
                return None
            if failure is not None:
                response.set_rcode(
                    dns.rcode.SERVFAIL if failure == "servfail" else dns.rcode.REFUSED
                )
            else:
                self._answer(response, qname, question.rdtype, question.rdclass)
        return _render(response, query, transport)

    def _answer(self, response, qname: dns.name.Name, rdtype, rdclass) -> None:
        zone = self._zone_for(qname)
        if zone is None or rdclass != _IN or rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            response.set_rcode(dns.rcode.REFUSED)
            return
        response.flags |= dns.flags.AA
        for _ in range(MAX_CNAME_CHAIN):
            referral = _delegation(zone, qname)
            if referral is not None:
                _add_referral(response, zone, referral)
                response.flags &= ~dns.flags.AA
                return
            node = _find_node(zone, qname)
            if node is None:
                response.set_rcode(dns.rcode.NXDOMAIN)  # of the last name in a chain (RFC 6604)
                _add_soa(response, zone)
                return
            cname = node.get_rdataset(_IN, _CNAME)
            if cname is not None and rdtype not in (_CNAME, dns.rdatatype.ANY):
                response.answer.append(_rrset(qname, cname))
                qname = cname[0].target.canonicalize()
                zone = self._zone_for(qname)
                if zone is None:  # target elsewhere: the client's resolver chases it
                    return
                continue
            rdatasets = _wanted(node, rdtype)
            if not rdatasets:
                _add_soa(response, zone)
                return
            for rdataset in rdatasets:
                response.answer.append(_rrset(qname, rdataset))
            _add_glue(response, zone, rdatasets)
            return


# ---------------------------------------------------------------------- helpers


def _checked_latency(seconds: float) -> float:
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise ValueError(f"latency must be a number of seconds, not {seconds!r}") from None
    if not 0 <= value <= 60:  # also refuses NaN
        raise ValueError(f"latency must be between 0 and 60 seconds, not {seconds!r}")
    return value


def _rdtype(rtype: str) -> dns.rdatatype.RdataType:
    try:
        return dns.rdatatype.from_text(rtype.strip().upper())
    except dns.exception.DNSException:
        raise ZoneError(f"unknown DNS record type {rtype!r}") from None


def _txt_rdata(value: str, rdtype: dns.rdatatype.RdataType = _TXT) -> dns.rdata.Rdata:
    strings = [c.encode("utf-8") for c in txt_chunks(value)]
    if rdtype == dns.rdatatype.SPF:
        return dns.rdtypes.ANY.SPF.SPF(_IN, rdtype, strings)
    return dns.rdtypes.ANY.TXT.TXT(_IN, rdtype, strings)


def _txt_tag(value: str) -> str | None:
    head = value.strip().split(";", 1)[0].split(" ", 1)[0].strip().lower()
    return head if head in _SELF_TAGS else None


def _txt_tag_rdata(rdata) -> str | None:
    return _txt_tag(b"".join(rdata.strings).decode("utf-8", errors="replace"))


def _origin_directive(text: str) -> str | None:
    for line in text.splitlines():
        parts = line.split(";", 1)[0].split()
        if len(parts) >= 2 and parts[0].upper() == "$ORIGIN":
            return parts[1]
    return None


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return rrset


def _find_node(zone: dns.zone.Zone, qname: dns.name.Name):
    """The node answering for qname (a wildcard's when synthesised), an empty node for an
    empty non-terminal, None when the name does not exist."""
    node = zone.get_node(qname)
    if node is not None and len(node.rdatasets) > 0:
        return node
    if node is not None or _has_descendant(zone, qname):
        return dns.node.Node()
    encloser = qname
    while encloser != zone.origin:
        encloser = encloser.parent()
        wildcard = zone.get_node(dns.name.Name((b"*",)).concatenate(encloser))
        if wildcard is not None:
            return wildcard
        if zone.get_node(encloser) is not None or _has_descendant(zone, encloser):
            break
    return None


def _has_descendant(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    return any(n != name and n.is_subdomain(name) for n in zone.nodes)


def _delegation(zone: dns.zone.Zone, qname: dns.name.Name) -> dns.name.Name | None:
    """The highest delegation point at or above qname, below the apex, if any."""
    cut = None
    name = qname
    while name != zone.origin:
        if zone.get_rdataset(name, _NS) is not None:
            cut = name
        name = name.parent()
    return cut


def _add_referral(response, zone: dns.zone.Zone, cut: dns.name.Name) -> None:
    ns = zone.get_rdataset(cut, _NS)
    response.authority.append(_rrset(cut, ns))
    _add_glue(response, zone, [ns])


def _add_soa(response, zone: dns.zone.Zone) -> None:
    soa = zone.get_rdataset(zone.origin, _SOA)
    if soa is None:
        return
    rrset = _rrset(zone.origin, soa)
    rrset.update_ttl(min(soa.ttl, soa[0].minimum))
    response.authority.append(rrset)


def _wanted(node: dns.node.Node, rdtype) -> list[dns.rdataset.Rdataset]:
    if rdtype == dns.rdatatype.ANY:
        return list(node.rdatasets)
    found = node.get_rdataset(_IN, rdtype)
    return [found] if found is not None else []


def _add_glue(response, zone: dns.zone.Zone, rdatasets) -> None:
    """Addresses of in-zone NS and MX targets in the additional section."""
    for rdataset in rdatasets:
        if rdataset.rdtype not in (_NS, dns.rdatatype.MX):
            continue
        for rdata in rdataset:
            target = rdata.target if rdataset.rdtype == _NS else rdata.exchange
            target = target.canonicalize()
            if not target.is_subdomain(zone.origin):
                continue
            node = zone.get_node(target)
            if node is None:
                continue
            for addr_type in (dns.rdatatype.A, dns.rdatatype.AAAA):
                found = node.get_rdataset(_IN, addr_type)
                if found is not None:
                    response.additional.append(_rrset(target, found))


def _render(response, query, transport: str) -> bytes:
    """Wire form; over UDP, a reply too big for the client is cut to the header and question
    with TC set, so the client asks again over TCP."""
    if transport == "tcp":
        try:
            return response.to_wire(max_size=65535)
        except dns.exception.TooBig:
            return _emptied(response, dns.rcode.SERVFAIL).to_wire()
    limit = max(CLASSIC_UDP_SIZE, query.payload) if query.edns >= 0 else CLASSIC_UDP_SIZE
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        truncated = _emptied(response)
        truncated.flags |= dns.flags.TC
        return truncated.to_wire(max_size=limit)


def _emptied(response, rcode=None):
    response.answer.clear()
    response.authority.clear()
    response.additional.clear()
    if rcode is not None:
        response.set_rcode(rcode)
    return response


def _formerr(wire: bytes) -> bytes | None:
    if len(wire) < 12:
        return None
    (ident, flags) = struct.unpack("!HH", wire[:4])
    if flags & dns.flags.QR:
        return None
    reply_flags = dns.flags.QR | (flags & dns.flags.RD) | dns.rcode.FORMERR
    return struct.pack("!HHHHHH", ident, reply_flags, 0, 0, 0, 0)


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _close(sock: socket.socket | None, shutdown: bool = False) -> None:
    if sock is None:
        return
    if shutdown:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        sock.close()
    except OSError:
        pass
