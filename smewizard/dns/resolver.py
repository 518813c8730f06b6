"""Asynchronous DNS lookups with outcomes that keep "absent" apart from "could not tell".

A timeout or SERVFAIL is never the same as NXDOMAIN: steps turn `Lookup.failed` into an
"unknown" finding and propose nothing from it.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.reversename

from smewizard.validate import InvalidValue


class Outcome(enum.StrEnum):
    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    ERROR = "error"


@dataclass(frozen=True)
class Lookup:
    name: str
    rtype: str
    outcome: Outcome
    values: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ANSWER

    @property
    def absent(self) -> bool:
        """The name or type provably does not exist (NXDOMAIN or no data)."""
        return self.outcome in (Outcome.NXDOMAIN, Outcome.NODATA)

    @property
    def failed(self) -> bool:
        """We could not find out: timeout, SERVFAIL, refused, network error."""
        return self.outcome in (Outcome.TIMEOUT, Outcome.SERVFAIL, Outcome.ERROR)

    def describe(self) -> str:
        if self.ok:
            return ", ".join(self.values)
        return {
            Outcome.NXDOMAIN: "the name does not exist (NXDOMAIN)",
            Outcome.NODATA: f"the name exists but has no {self.rtype} record",
            Outcome.TIMEOUT: "no answer in time (DNS timeout)",
            Outcome.SERVFAIL: "the DNS server failed to answer (SERVFAIL/REFUSED)",
            Outcome.ERROR: f"lookup error: {self.error}",
        }[self.outcome]


def parse_nameserver(text: str) -> tuple[str, int]:
    """Parse "HOST[:PORT]" or "[v6]:PORT" into (ip, port). HOST must be an IP address."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = _port(p, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise InvalidValue(
            f"--nameserver {text!r}: expected IP[:PORT], e.g. 127.0.0.1:5353"
        ) from None
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidValue(f"--nameserver {whole!r}: port must be 1-65535")
    return int(text)


#: Most lookups in flight at once in `many()` (each holds a socket).
MAX_CONCURRENT = 64
#: Longest CNAME chain followed when a server returns a CNAME pointing out of its zones.
MAX_CNAME_HOPS = 8


def _rdata_text(rtype: str, rdata) -> str:
    if rtype in ("TXT", "SPF"):
        # One record may be several character-strings; they form one value, no separator.
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    if rtype == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True).lower()}"
    if rtype in ("PTR", "NS", "CNAME"):
        return rdata.target.to_text(omit_final_dot=True).lower()
    return rdata.to_text()


@dataclass(frozen=True)
class _Query:
    """A checked question: the name and type as dnspython objects, or why it cannot be asked."""

    name: str
    rtype: str
    qname: dns.name.Name | None = None
    qtype: dns.rdatatype.RdataType | None = None
    problem: str = ""

    def refused(self) -> Lookup:
        return Lookup(self.name, self.rtype, Outcome.ERROR, (), self.problem)


def _query(name: str, rtype: str) -> _Query:
    name = str(name).strip().rstrip(".").lower()
    rtype = str(rtype).strip().upper()
    if not name or any(c.isspace() or ord(c) < 33 or ord(c) > 126 for c in name):
        return _Query(name, rtype, problem=f"{name[:80]!r} is not a valid DNS name")
    try:
        qname = dns.name.from_text(name, origin=dns.name.root)
    except dns.exception.DNSException as exc:
        return _Query(name, rtype, problem=f"{name[:80]!r} is not a valid DNS name: {exc}")
    try:
        qtype = dns.rdatatype.from_text(rtype)
    except dns.exception.DNSException:
        return _Query(name, rtype, problem=f"{rtype[:20]!r} is not a DNS record type")
    return _Query(name, rtype, qname, qtype)


class Dns:
    """Lookups through a recursive resolver (the system's, or `nameservers`), or — with
    `direct=True` — straight to the zone's authoritative servers so a re-verification right
    after publishing is not fooled by a cache.

    In direct mode the authoritative servers are found through the configured resolver (SOA
    to find the zone, then its NS names and their A records) and asked at the configured
    resolver's port (53 normally; the embedded server's port in tests and the demo)."""

    def __init__(
        self,
        nameservers: Iterable[tuple[str, int]] | None = None,
        *,
        timeout: float = 3.0,
        direct: bool = False,
    ):
        self.nameservers = list(nameservers) if nameservers else []
        self.timeout = timeout
        self.direct = direct
        self._auth_cache: dict[str, list[str]] = {}
        self._answers: dns.resolver.Cache | None = None
        self._in_flight: dict[tuple[str, str], asyncio.Task] = {}

    def with_run_cache(self) -> Dns:
        """A client with the same servers whose resolvers (async ones and the blocking ones
        handed to pyspf/dkimpy) share one answer cache, so the name every SPF evaluation,
        include count and DMARC lookup asks is fetched once per run.

        Use one per audit or probe run and drop it after: a re-verification after publishing
        must build a fresh one, or it would be served the answer from before the change.
        Failures (timeout, SERVFAIL) are never cached; answers and NXDOMAIN/no-data are, for
        at most their TTL. The same question asked again while the first is still on the
        wire waits for that answer instead of asking twice."""
        run = Dns(self.nameservers, timeout=self.timeout, direct=self.direct)
        run._answers = dns.resolver.Cache()
        return run

    @property
    def caching(self) -> bool:
        """Whether this client shares an answer cache (made by with_run_cache)."""
        return self._answers is not None

    # ---------------------------------------------------------------- resolvers
    def _configure(self, res, servers: list[tuple[str, int]] | None = None):
        servers = servers if servers is not None else self.nameservers
        if servers:
            res.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in servers]
        res.lifetime = self.timeout
        res.timeout = min(self.timeout, 2.0)
        res.cache = self._answers
        return res

    def _async_resolver(self, servers: list[tuple[str, int]] | None = None):
        return self._configure(dns.asyncresolver.Resolver(configure=not self.nameservers), servers)

    def sync_resolver(self) -> dns.resolver.Resolver:
        """A blocking resolver with the same servers, for libraries that call back
        synchronously (pyspf, dkimpy) from a worker thread.

        Raises dns.resolver.NoResolverConfiguration when no servers are configured and the
        system has none (no /etc/resolv.conf)."""
        return self._configure(dns.resolver.Resolver(configure=not self.nameservers))

    @property
    def port(self) -> int:
        return self.nameservers[0][1] if self.nameservers else 53

    # ---------------------------------------------------------------- lookups
    async def lookup(self, name: str, rtype: str) -> Lookup:
        query = _query(name, rtype)
        if self._answers is None or query.problem:
            return await self._lookup(query, 0)
        return await self._shared(query)

    async def _shared(self, query: _Query) -> Lookup:
        """One question on the wire at a time per name and type (the run cache answers it
        once it is back). Shielded: one caller giving up does not cancel the others' answer."""
        key = (query.name, query.rtype)
        loop = asyncio.get_running_loop()
        task = self._in_flight.get(key)
        if task is None or task.get_loop() is not loop:
            task = loop.create_task(self._lookup(query, 0))
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def _forget(self, key: tuple[str, str], task: asyncio.Task) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]

    async def _lookup(self, query: _Query, hops: int) -> Lookup:
        if query.problem:
            return query.refused()
        try:
            servers = await self._authoritative(query.qname) if self.direct else None
            res = self._async_resolver(servers)
        except _DiscoveryFailed as failed:
            return Lookup(query.name, query.rtype, failed.outcome, (), failed.error)
        except dns.exception.DNSException as exc:  # e.g. no resolver configuration
            return Lookup(query.name, query.rtype, Outcome.ERROR, (), _describe(exc))
        lookup = await _ask(res, query)
        return await self._chase_async(lookup, query, hops)

    def lookup_sync(self, name: str, rtype: str) -> Lookup:
        """The same lookup, blocking: for worker threads and synchronous callbacks."""
        return self._lookup_sync(_query(name, rtype), 0)

    def _lookup_sync(self, query: _Query, hops: int) -> Lookup:
        if query.problem:
            return query.refused()
        try:
            servers = self._authoritative_sync(query.qname) if self.direct else None
            res = self._configure(dns.resolver.Resolver(configure=not self.nameservers), servers)
        except _DiscoveryFailed as failed:
            return Lookup(query.name, query.rtype, failed.outcome, (), failed.error)
        except dns.exception.DNSException as exc:
            return Lookup(query.name, query.rtype, Outcome.ERROR, (), _describe(exc))
        lookup = _ask_sync(res, query)
        return self._chase_sync(lookup, query, hops)

    async def many(self, queries: Iterable[tuple[str, str]]) -> list[Lookup]:
        """All lookups concurrently (at most MAX_CONCURRENT in flight), results in order."""
        gate = asyncio.Semaphore(MAX_CONCURRENT)

        async def one(name: str, rtype: str) -> Lookup:
            async with gate:
                return await self.lookup(name, rtype)

        return list(await asyncio.gather(*(one(n, t) for n, t in queries)))

    async def txt(self, name: str) -> Lookup:
        return await self.lookup(name, "TXT")

    async def a(self, name: str) -> Lookup:
        return await self.lookup(name, "A")

    async def aaaa(self, name: str) -> Lookup:
        return await self.lookup(name, "AAAA")

    async def mx(self, name: str) -> Lookup:
        return await self.lookup(name, "MX")

    async def ns(self, name: str) -> Lookup:
        return await self.lookup(name, "NS")

    async def ptr(self, ip: str) -> Lookup:
        try:
            rev = dns.reversename.from_address(str(ip).strip()).to_text(omit_final_dot=True)
        except (dns.exception.DNSException, ValueError):
            return Lookup(
                str(ip), "PTR", Outcome.ERROR, (), f"{str(ip)[:60]!r} is not an IP address"
            )
        return await self.lookup(rev, "PTR")

    # ---------------------------------------------------------------- CNAME out of zone
    # An authoritative server (direct mode, or the embedded server used as resolver) answers
    # a CNAME to a name outside its zones with the CNAME alone; a recursive resolver would
    # have followed it. Follow it ourselves so both modes give the same answer.
    async def _chase_async(self, lookup: Lookup, query: _Query, hops: int) -> Lookup:
        target = _cname_target(lookup, query)
        if target is None:
            return _public(lookup)
        if hops >= MAX_CNAME_HOPS:
            return _cname_loop(query)
        followed = await self._lookup(_query(target, query.rtype), hops + 1)
        return _renamed(followed, query)

    def _chase_sync(self, lookup: Lookup, query: _Query, hops: int) -> Lookup:
        target = _cname_target(lookup, query)
        if target is None:
            return _public(lookup)
        if hops >= MAX_CNAME_HOPS:
            return _cname_loop(query)
        followed = self._lookup_sync(_query(target, query.rtype), hops + 1)
        return _renamed(followed, query)

    # ---------------------------------------------------------------- direct mode
    async def _authoritative(self, qname: dns.name.Name) -> list[tuple[str, int]] | None:
        """Addresses of the authoritative servers of the zone holding `qname` (cached per
        zone); None when the zone has no reachable server address, so the lookup falls back
        to recursion. A failure to find the zone at all is that failure (_DiscoveryFailed)."""
        res = self._async_resolver()
        try:
            zone = await dns.asyncresolver.zone_for_name(qname, resolver=res, lifetime=self.timeout)
        except (dns.exception.DNSException, OSError) as exc:
            raise _DiscoveryFailed.from_exception(exc) from None
        key = zone.to_text()
        if key not in self._auth_cache:
            ns = await _ask(res, _query(key, "NS"))
            v4 = await asyncio.gather(*(_ask(res, _query(host, "A")) for host in ns.values))
            addresses = _addresses(v4)
            if not addresses:
                v6 = await asyncio.gather(*(_ask(res, _query(h, "AAAA")) for h in ns.values))
                addresses = _addresses(v6)
            self._remember(key, addresses)
        return self._servers(key)

    def _authoritative_sync(self, qname: dns.name.Name) -> list[tuple[str, int]] | None:
        res = self.sync_resolver()
        try:
            zone = dns.resolver.zone_for_name(qname, resolver=res, lifetime=self.timeout)
        except (dns.exception.DNSException, OSError) as exc:
            raise _DiscoveryFailed.from_exception(exc) from None
        key = zone.to_text()
        if key not in self._auth_cache:
            ns = _ask_sync(res, _query(key, "NS"))
            addresses = _addresses([_ask_sync(res, _query(h, "A")) for h in ns.values])
            if not addresses:
                addresses = _addresses([_ask_sync(res, _query(h, "AAAA")) for h in ns.values])
            self._remember(key, addresses)
        return self._servers(key)

    def _remember(self, zone_key: str, addresses: list[str]) -> None:
        # An empty result (NS lookup failed) is not cached: the next lookup tries again.
        if addresses:
            self._auth_cache[zone_key] = addresses

    def _servers(self, zone_key: str) -> list[tuple[str, int]] | None:
        addresses = self._auth_cache.get(zone_key, [])
        return [(ip, self.port) for ip in addresses] or None


def _addresses(lookups: Iterable[Lookup]) -> list[str]:
    """IPv4 addresses of the NS hosts first; IPv6 only asked for when there is no IPv4
    (an IPv6 address on a host without IPv6 routing would only add timeouts)."""
    return list(dict.fromkeys(ip for lookup in lookups for ip in lookup.values))


class _DiscoveryFailed(Exception):
    """Direct mode could not find the zone of a name: a timeout or SERVFAIL on the way."""

    def __init__(self, outcome: Outcome, error: str):
        super().__init__(error)
        self.outcome, self.error = outcome, error

    @classmethod
    def from_exception(cls, exc: BaseException) -> _DiscoveryFailed:
        outcome, error = _classify(exc)
        if outcome in (Outcome.NXDOMAIN, Outcome.NODATA):  # no SOA anywhere up to the root
            outcome, error = Outcome.ERROR, f"no zone found: {_describe(exc)}"
        return cls(outcome, f"finding the authoritative servers: {error}")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _classify(exc: BaseException) -> tuple[Outcome, str]:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return Outcome.NXDOMAIN, ""
    if isinstance(exc, dns.resolver.NoAnswer):
        return Outcome.NODATA, ""
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return Outcome.TIMEOUT, str(exc)
    if isinstance(exc, dns.resolver.NoNameservers):  # every server said SERVFAIL or REFUSED
        return Outcome.SERVFAIL, str(exc)
    return Outcome.ERROR, _describe(exc)


@dataclass(frozen=True)
class _Raw(Lookup):
    """A lookup plus the CNAME target its response ended on without an answer (internal)."""

    dangling_cname: str = ""


def _cname_target(lookup: Lookup, query: _Query) -> str | None:
    if isinstance(lookup, _Raw) and lookup.dangling_cname and query.qtype != dns.rdatatype.CNAME:
        return lookup.dangling_cname
    return None


def _public(lookup: Lookup) -> Lookup:
    return Lookup(lookup.name, lookup.rtype, lookup.outcome, lookup.values, lookup.error)


def _cname_loop(query: _Query) -> Lookup:
    error = f"CNAME chain longer than {MAX_CNAME_HOPS} hops (a loop?)"
    return Lookup(query.name, query.rtype, Outcome.ERROR, (), error)


def _renamed(followed: Lookup, query: _Query) -> Lookup:
    return Lookup(query.name, query.rtype, followed.outcome, followed.values, followed.error)


def _dangling_cname(exc: dns.resolver.NoAnswer, query: _Query) -> str:
    """The end of the CNAME chain in a no-data response, when it points out of the answer."""
    response = exc.kwargs.get("response") if hasattr(exc, "kwargs") else None
    if not isinstance(response, dns.message.Message):
        return ""
    current, hops = query.qname, 0
    while hops < MAX_CNAME_HOPS:
        rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if rrset is None:
            break
        current, hops = rrset[0].target, hops + 1
    return current.to_text(omit_final_dot=True).lower() if hops else ""


def _failed(query: _Query, exc: BaseException) -> Lookup:
    if isinstance(exc, dns.resolver.NoAnswer):
        target = _dangling_cname(exc, query)
        if target:
            return _Raw(query.name, query.rtype, Outcome.NODATA, (), "", target)
    outcome, error = _classify(exc)
    return Lookup(query.name, query.rtype, outcome, (), error)


def _result(query: _Query, answer) -> Lookup:
    values = tuple(_rdata_text(query.rtype, r) for r in answer)
    return Lookup(query.name, query.rtype, Outcome.ANSWER, values)


async def _ask(res, query: _Query) -> Lookup:
    if query.problem:
        return query.refused()
    try:
        answer = await res.resolve(query.qname, query.qtype, search=False)
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        return _failed(query, exc)
    return _result(query, answer)


def _ask_sync(res, query: _Query) -> Lookup:
    if query.problem:
        return query.refused()
    try:
        answer = res.resolve(query.qname, query.qtype, search=False)
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        return _failed(query, exc)
    return _result(query, answer)
