"""BIND zone text for the scenario's DNS (served by smewizard.dns.authserver.AuthServer)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from smewizard.model import txt_chunks

NS_GLUE = "127.0.0.1"


def _quote(chunk: str) -> str:
    return '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'


def txt_rdata(value: str) -> str:
    """A TXT value as zone-file rdata: one or more quoted strings of at most 255 octets."""
    return " ".join(_quote(c) for c in txt_chunks(value))


@dataclass
class Zone:
    origin: str
    lines: list[str] = field(default_factory=list)
    ttl: int = 300

    def add(self, name: str, rtype: str, rdata: str, ttl: int | None = None) -> None:
        """`name` relative to the origin ("@" for the apex) or absolute with a trailing dot."""
        ttl_text = f"{ttl}\t" if ttl is not None else ""
        self.lines.append(f"{name}\t{ttl_text}IN\t{rtype}\t{rdata}")

    def txt(self, name: str, value: str) -> None:
        self.add(name, "TXT", txt_rdata(value))

    def text(self) -> str:
        head = [
            f"$ORIGIN {self.origin}.",
            f"$TTL {self.ttl}",
            f"@\tIN\tSOA\tns1.{self.origin}. hostmaster.{self.origin}. 2026112501 3600 600 604800 300",
            f"@\tIN\tNS\tns1.{self.origin}.",
            f"ns1\tIN\tA\t{NS_GLUE}",
        ]
        return "\n".join(head + self.lines) + "\n"


def reverse_zone_of(ip: str) -> tuple[str, str]:
    """(zone origin, label) for an IP's PTR: the /24 (IPv4) or /64 (IPv6) reverse zone."""
    addr = ipaddress.ip_address(ip)
    labels = addr.reverse_pointer.split(".")
    cut = 1 if addr.version == 4 else 16
    return ".".join(labels[cut:]), ".".join(labels[:cut])
