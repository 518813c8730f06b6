"""What every step shares: the run context, server-wide facts, and the Step protocol."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from smewizard.dns import Dns, Lookup
from smewizard.host.base import Host
from smewizard.model import Assessment
from smewizard.sme.config import SmeConfig


@dataclass
class Context:
    """Everything a probe may use. Built once per run by the CLI or the app."""

    host: Host
    dns: Dns
    public_ips: tuple[str, ...] = ()  # --public-ip: overrides what SME and DNS say
    spf_networks: tuple[str, ...] = ()  # networks the provider allocated (CIDR), for SPF
    only_domains: tuple[str, ...] = ()  # --domain: restrict to these
    dry_run: bool = False  # --dry-run: show every change's commands, run none (safe-apply)
    # a pinned time (tests, reproducible reports); None: each run reads the clock when it starts
    # (engine.run_context), so a wizard left open for days still dates what it sees correctly
    now: datetime | None = None

    def clock(self) -> datetime:
        """The time of this run."""
        return self.now if self.now is not None else datetime.now(UTC)

    async def io(self, func, /, *args, **kwargs):
        """Run blocking host I/O off the event loop."""
        return await asyncio.to_thread(func, *args, **kwargs)


@dataclass(frozen=True)
class PublicIp:
    """The server's public address and where we learned it."""

    address: str
    source: str  # "--public-ip", "ExternalIP in the configuration db", "A record of <fqdn>"


@dataclass(frozen=True)
class ServerFacts:
    """Server-wide facts several steps need, probed once per run."""

    config: SmeConfig
    domains: tuple[str, ...]
    public_ips: tuple[PublicIp, ...]
    public_ip_lookup: Lookup | None  # the FQDN A lookup, when that is where the IP came from
    relay_host: str | None
    relay_ips: tuple[str, ...]
    relay_lookup: Lookup | None
    # hosted names in the db that are not DNS names: left out of `domains`, reported by SPF021
    invalid_domains: tuple[tuple[str, str], ...] = ()


class Step(Protocol):
    key: str  # "spf"
    title: str  # "SPF"
    parts: tuple[str, ...]  # guide parts: ("Part 1",)

    async def probe(self, ctx: Context, server: ServerFacts) -> Any: ...

    def assess(self, facts: Any) -> Assessment: ...
