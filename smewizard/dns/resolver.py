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
import dns.name
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
    """"HOST[:PORT]" or "[v6]:PORT" → (ip, port). HOST must be an IP address."""
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
        raise InvalidValue(f"--nameserver {text!r}: expected IP[:PORT], e.g. 127.0.0.1:5353") from None
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidValue(f"--nameserver {whole!r}: port must be 1-65535")
    return int(text)


def _rdata_text(rtype: str, rdata) -> str:
    if rtype in ("TXT", "SPF"):
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    if rtype == "MX":
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True).lower()}"
    if rtype in ("PTR", "NS", "CNAME"):
        return rdata.target.to_text(omit_final_dot=True).lower()
    return rdata.to_text()


class Dns:
    """Lookups through a recursive resolver (the system's, or `nameservers`), or — with
    `direct=True` — straight to the zone's authoritative servers so a re-verification right
    after publishing is not fooled by a cache."""

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

    # ---------------------------------------------------------------- resolvers
    def _configure(self, res, servers: list[tuple[str, int]] | None = None):
        servers = servers if servers is not None else self.nameservers
        if servers:
            res.nameservers = [ip for ip, _ in servers]
            res.port = servers[0][1]
        res.lifetime = self.timeout
        res.timeout = min(self.timeout, 2.0)
        res.cache = None
        return res

    def _async_resolver(self, servers: list[tuple[str, int]] | None = None):
        return self._configure(dns.asyncresolver.Resolver(configure=not self.nameservers), servers)

    def sync_resolver(self) -> dns.resolver.Resolver:
        """A blocking resolver with the same servers, for libraries that call back
        synchronously (pyspf, dkimpy) from a worker thread."""
        return self._configure(dns.resolver.Resolver(configure=not self.nameservers))

    @property
    def port(self) -> int:
        return self.nameservers[0][1] if self.nameservers else 53

    # ---------------------------------------------------------------- lookups
    async def lookup(self, name: str, rtype: str) -> Lookup:
        name = name.rstrip(".").lower()
        servers = await self._authoritative(name) if self.direct else None
        res = self._async_resolver(servers)
        return await _ask(res, name, rtype)

    def lookup_sync(self, name: str, rtype: str) -> Lookup:
        res = self.sync_resolver()
        return _ask_sync(res, name.rstrip(".").lower(), rtype)

    async def many(self, queries: Iterable[tuple[str, str]]) -> list[Lookup]:
        return list(await asyncio.gather(*(self.lookup(n, t) for n, t in queries)))

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
        rev = dns.reversename.from_address(ip).to_text(omit_final_dot=True)
        return await self.lookup(rev, "PTR")

    # ---------------------------------------------------------------- direct mode
    async def _authoritative(self, name: str) -> list[tuple[str, int]] | None:
        """Addresses of the authoritative servers of the zone holding `name` (cached per
        zone); None when they cannot be found, so the lookup falls back to recursion."""
        res = self._async_resolver()
        try:
            zone = await dns.asyncresolver.zone_for_name(name, resolver=res)
        except (dns.exception.DNSException, OSError):
            return None
        key = zone.to_text()
        if key not in self._auth_cache:
            ns = await _ask(res, key.rstrip("."), "NS")
            addresses: list[str] = []
            for host in ns.values:
                a = await _ask(res, host, "A")
                addresses.extend(a.values)
            self._auth_cache[key] = addresses
        addresses = self._auth_cache[key]
        return [(ip, self.port) for ip in addresses] or None


def _classify(exc: BaseException) -> tuple[Outcome, str]:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return Outcome.NXDOMAIN, ""
    if isinstance(exc, dns.resolver.NoAnswer):
        return Outcome.NODATA, ""
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return Outcome.TIMEOUT, str(exc)
    if isinstance(exc, dns.resolver.NoNameservers):
        return Outcome.SERVFAIL, str(exc)
    return Outcome.ERROR, f"{type(exc).__name__}: {exc}"


def _result(name: str, rtype: str, answer) -> Lookup:
    values = tuple(_rdata_text(rtype, r) for r in answer)
    return Lookup(name, rtype, Outcome.ANSWER, values)


async def _ask(res, name: str, rtype: str) -> Lookup:
    try:
        qname = dns.name.from_text(name)
        answer = await res.resolve(qname, dns.rdatatype.from_text(rtype), search=False)
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        outcome, error = _classify(exc)
        return Lookup(name, rtype, outcome, (), error)
    return _result(name, rtype, answer)


def _ask_sync(res, name: str, rtype: str) -> Lookup:
    try:
        qname = dns.name.from_text(name)
        answer = res.resolve(qname, dns.rdatatype.from_text(rtype), search=False)
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        outcome, error = _classify(exc)
        return Lookup(name, rtype, outcome, (), error)
    return _result(name, rtype, answer)
