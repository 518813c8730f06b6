"""`smewizard records DOMAIN [--zone]`: every DNS record to publish for one hosted domain.

Plain output lists each record (name, type, TTL, value; long TXT values also as the 255-octet
strings a registrar's form may want). `--zone` prints a BIND zone-file snippet a registrar's
zone import accepts: `$ORIGIN`, `$TTL`, names relative to the zone (`@` for the apex), every
TXT value as quoted strings of at most 255 octets on one line (no parentheses, which some
import forms reject). Records that belong in another zone (e.g. a DMARC report authorization at
the report receiver) are listed as comments, since they cannot be imported into this one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from smewizard import __version__, validate
from smewizard.commands.common import EXIT_OK, add_target_options, build_context, close_host
from smewizard.engine import AuditResult, run_audit
from smewizard.model import Record
from smewizard.sme.config import SmeConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "records",
        help="print every DNS record to publish for a domain (--zone: BIND snippet for a registrar import)",
        description="Audit the server and DNS, then print the DNS records the wizard proposes for DOMAIN.",
    )
    p.add_argument("record_domain", metavar="DOMAIN", help="a hosted domain")
    p.add_argument("--zone", action="store_true", help="BIND zone-file snippet ($ORIGIN, relative names)")
    add_target_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    domain = validate.domain_name(args.record_domain)
    ctx = build_context(args)
    try:
        hosted = SmeConfig.load(ctx.host).hosted_domains
        if domain not in hosted:
            raise validate.InvalidValue(
                f"{domain} is not a domain hosted on this server (hosted: {', '.join(hosted) or 'none'})"
            )
        ctx.only_domains = (domain,)
        result = asyncio.run(run_audit(ctx))
    finally:
        close_host(ctx)
    records = records_for(result, domain)
    sys.stdout.write(zone_snippet(domain, records) if args.zone else plain_text(domain, records))
    return EXIT_OK


def records_for(result: AuditResult, domain: str) -> list[Record]:
    """The domain's records to publish from every step, in step order, without duplicates."""
    return result.records_to_publish(domain)


def plain_text(domain: str, records: Iterable[Record]) -> str:
    records = list(records)
    if not records:
        return f"No DNS records to publish for {domain}: DNS already has what the wizard expects.\n"
    lines = [f"DNS records to publish for {domain}:"]
    for record in records:
        lines.append("")
        lines.append(f"{record.name}  {record.rtype}  TTL {record.ttl}")
        lines.append(f"  {record.value}")
        if record.rtype == "TXT" and len(record.chunks()) > 1:
            lines.append(f"  as 255-octet strings: {record.quoted_chunks()}")
        if record.note:
            lines.append(f"  note: {record.note}")
    return "\n".join(lines) + "\n"


def in_zone(record: Record, zone: str) -> bool:
    name, zone = record.name.rstrip(".").lower(), zone.rstrip(".").lower()
    return name == zone or name.endswith("." + zone)


def zone_data(record: Record) -> str:
    """TXT as quoted 255-octet strings on one line; names as absolute (trailing dot)."""
    if record.rtype in ("TXT", "SPF"):
        return record.quoted_chunks()
    if record.rtype in ("PTR", "CNAME", "NS", "MX") and not record.value.endswith("."):
        return record.value + "."
    return record.value


def zone_line(record: Record, zone: str) -> str:
    return f"{record.relative_name(zone)}\t{record.ttl}\tIN\t{record.rtype}\t{zone_data(record)}"


def zone_snippet(domain: str, records: Iterable[Record], now: datetime | None = None) -> str:
    records = list(records)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    ttl = min((r.ttl for r in records), default=3600)
    lines = [
        f"; DNS records for {domain} proposed by smewizard {__version__} on {stamp}",
        "; Import into the zone at your DNS provider, or paste into the zone file.",
        f"$ORIGIN {domain.rstrip('.')}.",
        f"$TTL {ttl}",
    ]
    inside = [r for r in records if in_zone(r, domain)]
    outside = [r for r in records if not in_zone(r, domain)]
    for record in inside:
        if record.note:
            lines.append(f"; {record.note}")
        lines.append(zone_line(record, domain))
    if not inside:
        lines.append(f"; nothing to publish in {domain}: DNS already has what the wizard expects")
    for record in outside:
        lines.append(f"; publish in the zone that holds {record.name} (not importable here):")
        if record.note:
            lines.append(f";   ({record.note})")
        lines.append(f";   {record.name}.\t{record.ttl}\tIN\t{record.rtype}\t{zone_data(record)}")
    return "\n".join(lines) + "\n"
