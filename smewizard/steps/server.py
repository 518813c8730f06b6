"""Server-wide probing shared by the steps: SME config, hosted domains, public and relay IPs."""

from __future__ import annotations

import ipaddress

from smewizard import validate
from smewizard.sme.config import SmeConfig
from smewizard.steps.base import Context, PublicIp, ServerFacts


def smarthost_name(value: str | None) -> str | None:
    """The host part of SMTPSmartHost ("smtp.isp.net:587" → "smtp.isp.net")."""
    if not value:
        return None
    host = value.strip()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.lower() or None


def _valid_domains(names: list[str]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(valid names, (name, why) of the others): a db entry that is no DNS name must not stop
    every step (each would refuse to build a command from it); the SPF step reports it."""
    valid, invalid = [], []
    for name in names:
        try:
            validate.domain_name(name)
        except validate.InvalidValue as exc:
            invalid.append((name, str(exc)))
        else:
            valid.append(name)
    return tuple(valid), tuple(invalid)


async def probe_server(ctx: Context) -> ServerFacts:
    config: SmeConfig = await ctx.io(SmeConfig.load, ctx.host)
    wanted = [d for d in config.hosted_domains if not ctx.only_domains or d in ctx.only_domains]
    domains, invalid = _valid_domains(wanted)
    public: list[PublicIp] = [PublicIp(ip, "--public-ip") for ip in ctx.public_ips]
    fqdn_lookup = None
    if not public and config.external_ip and is_public_address(config.external_ip):
        public.append(PublicIp(config.external_ip, "ExternalIP in the configuration db"))
    if not public and config.fqdn:
        fqdn_lookup = await ctx.dns.a(config.fqdn)
        public.extend(PublicIp(ip, f"A record of {config.fqdn}") for ip in fqdn_lookup.values)

    relay_host = smarthost_name(config.smarthost)
    relay_ips: tuple[str, ...] = ()
    relay_lookup = None
    if relay_host:
        try:
            relay_ips = (validate.ip_address(relay_host),)
        except validate.InvalidValue:
            relay_lookup = await ctx.dns.a(relay_host)
            relay_ips = relay_lookup.values
    return ServerFacts(
        config=config,
        domains=domains,
        invalid_domains=invalid,
        public_ips=tuple(public),
        public_ip_lookup=fqdn_lookup,
        relay_host=relay_host,
        relay_ips=relay_ips,
        relay_lookup=relay_lookup,
    )


_NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
              "169.254.0.0/16", "0.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128")
]


def is_public_address(ip: str) -> bool:
    """Routable from the internet as far as mail is concerned. The documentation ranges
    (203.0.113.0/24, …) count as public: the simulated server and the tests use them."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not any(addr in net for net in _NOT_PUBLIC if net.version == addr.version)
