"""Forward-confirmed reverse DNS (guide Part 4): pure logic, no I/O.

Three names must agree for a receiving server to trust the connection: the PTR of the server's
public IP, the forward A/AAAA of that PTR name (must contain the IP again), and the name the
server announces in HELO/EHLO. This module classifies PTR names and renders the agreement as a
small text diagram and the request text for the hosting provider.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass

# Words providers put into reverse names they generate for whole address blocks. Matched as a
# whole label below the first one ("x.static.isp.net", "1.2.rev.isp.net"), or as a prefix of
# the first label followed by digits ("ip-203-0-113-10", "static45").
_GENERIC_WORDS = (
    "static", "dynamic", "dyn", "dhcp", "pool", "dial", "dialup", "dsl", "adsl", "xdsl", "cable",
    "broadband", "customer", "customers", "cust", "client", "clients", "unassigned", "nat", "ppp",
    "rev", "reverse", "in-addr", "ip", "res", "residential", "fibre", "fiber", "ftth",
)
_GENERIC_PREFIX = re.compile(
    r"^(?:ip|host|static|dynamic|dyn|dhcp|vps|srv|client|cust|customer|pool|dsl|ppp|nat)[-.]?\d"
)
_GENERIC_LABEL = re.compile(
    r"^(?:" + "|".join(re.escape(w) for w in _GENERIC_WORDS) + r")(?:[-_]?\d+)*$"
)
# Well-known provider reverse zones (the PTR then names the provider, not the admin's server).
_PROVIDER_SUFFIXES = (
    "amazonaws.com", "compute.amazonaws.com", "googleusercontent.com", "linodeusercontent.com",
    "your-server.de", "clients.your-server.de", "contaboserver.net", "vultrusercontent.com",
    "ovh.net", "ip-ovh.net", "kimsufi.com", "hostwindsdns.com", "secureserver.net",
    "cloudapp.net", "cloudapp.azure.com", "digitalocean.com", "hetzner.com", "akamaitechnologies.com",
    "comcast.net", "rr.com", "verizon.net", "t-ipconnect.de", "bbtec.net", "sbcglobal.net",
)


@dataclass(frozen=True)
class GenericVerdict:
    generic: bool
    reasons: tuple[str, ...] = ()


def ip_fragments(ip: str) -> tuple[str, ...]:
    """Ways an address is commonly spelled inside a provider's reverse name."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        octets = str(addr).split(".")
        return (
            "-".join(octets), ".".join(octets), "_".join(octets),
            "-".join(reversed(octets)), ".".join(reversed(octets)),
            "".join(f"{int(o):03d}" for o in octets),
            f"{int(addr):x}",  # hex form some providers use (cb00710a)
        )
    full = addr.exploded.replace(":", "")
    return (full, full[-16:], str(addr).replace(":", "-"))


def generic_ptr(name: str, ip: str | None = None) -> GenericVerdict:
    """Does this PTR name look like a provider's automatic reverse name rather than a mail
    server's own name? Heuristic: the IP's digits in the name, generic words like `static`,
    `dynamic`, `ip-`, `host-`, `.rev.`, or a well-known provider reverse zone."""
    name = name.rstrip(".").lower()
    labels = name.split(".")
    reasons: list[str] = []
    if ip:
        for fragment in ip_fragments(ip):
            if fragment and fragment in name:
                reasons.append(f"contains the IP address ({fragment})")
                break
    if _GENERIC_PREFIX.match(labels[0]):
        reasons.append(f"starts with a generic prefix ({labels[0]})")
    for label in labels[1:-2]:
        if _GENERIC_LABEL.match(label):
            reasons.append(f"has a generic label ({label!r})")
            break
    if sum(c.isdigit() for c in labels[0]) >= 6:
        reasons.append("its first label is mostly digits")
    for suffix in _PROVIDER_SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            reasons.append(f"is in a hosting/ISP provider's reverse zone ({suffix})")
            break
    return GenericVerdict(bool(reasons), tuple(dict.fromkeys(reasons)))


def same_name(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a.rstrip(".").lower() == b.rstrip(".").lower()


def hosted_domain_of(name: str, hosted_domains: tuple[str, ...] | list[str]) -> str | None:
    """The hosted domain `name` equals or is a host of (`example.com`, `www.example.com`)."""
    name = name.rstrip(".").lower()
    for domain in hosted_domains:
        if name == domain or name.endswith("." + domain):
            return domain
    return None


class Seen(enum.StrEnum):
    """What a lookup told us: a value, provably nothing, or nothing we can rely on."""

    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Agreement:
    """The three names side by side, for one public IP."""

    ip: str
    ptr: Seen
    ptr_name: str | None  # first PTR name when found
    forward: Seen  # A/AAAA of the PTR name
    forward_ips: tuple[str, ...]
    helo: str | None  # HeloHost as configured (what the server announces)
    fqdn: str | None  # what all three should be


def _mark(ok: bool | None) -> str:
    return "?" if ok is None else ("✓" if ok else "✗")


def agreement_diagram(a: Agreement) -> str:
    """A small text diagram of IP → PTR → A/AAAA → IP and HELO vs PTR vs FQDN, for the
    state panel. ✓ agrees, ✗ disagrees, ? could not be looked up."""
    if a.ptr is Seen.UNKNOWN:
        ptr_ok, ptr_text = None, "? (PTR lookup failed)"
    elif a.ptr is Seen.ABSENT:
        ptr_ok, ptr_text = False, "(no PTR record)"
    else:
        ptr_ok, ptr_text = True, a.ptr_name or "?"
    if a.ptr is not Seen.FOUND:
        back_ok, fwd_text = (None if a.ptr is Seen.UNKNOWN else False), "-"
    elif a.forward is Seen.UNKNOWN:
        back_ok, fwd_text = None, "? (lookup failed)"
    else:
        back_ok = a.ip in a.forward_ips
        fwd_text = ", ".join(a.forward_ips) or "(no A/AAAA record)"
    helo_ptr = None if a.ptr is Seen.UNKNOWN else same_name(a.helo, a.ptr_name)
    ptr_fqdn = None if a.ptr is Seen.UNKNOWN else same_name(a.ptr_name, a.fqdn)
    return "\n".join(
        [
            f"IP {a.ip}",
            f"  │ PTR {_mark(ptr_ok)}",
            "  ▼",
            f"{ptr_text}   (= FQDN {a.fqdn or '?'}: {_mark(ptr_fqdn)})",
            f"  │ A/AAAA → {fwd_text}",
            "  ▼",
            f"back to {a.ip}: {_mark(back_ok)}",
            f"HELO {a.helo or '(HeloHost unset)'}   (= PTR: {_mark(helo_ptr)}, "
            f"= FQDN: {_mark(same_name(a.helo, a.fqdn))})",
        ]
    )


def provider_request(ip: str, fqdn: str, current_ptr: str | None, *, forward_ok: bool = True,
                     helo_ok: bool = True) -> str:
    """A ready-to-send message asking the hosting provider / ISP to set the PTR. `forward_ok` /
    `helo_ok`: the FQDN's A/AAAA and the server's HELO already say so (else "will")."""
    version = ipaddress.ip_address(ip).version
    fam = "A" if version == 4 else "AAAA"
    now = f"It currently points to {current_ptr}." if current_ptr else "It currently has no PTR record."
    has = "has" if forward_ok else "will have"
    announces = "announces itself" if helo_ok else "will announce itself"
    agree = "the three agree" if forward_ok and helo_ok else "the three will agree"
    return (
        f"Subject: Reverse DNS (PTR) request for {ip}\n"
        "\n"
        "Hello,\n"
        "\n"
        f"Please set the reverse DNS (PTR record) of our IP address {ip} to:\n"
        "\n"
        f"    {fqdn}\n"
        "\n"
        f"{now} The name {fqdn} {has} an {fam} record pointing to {ip}, and our mail server "
        f"{announces} as {fqdn} in SMTP HELO/EHLO, so {agree} "
        "(forward-confirmed reverse DNS), which receiving mail servers check.\n"
        "\n"
        "We host several domains on this server: please keep the PTR on this host name, not on "
        "any of the hosted domain names, and do not let automation replace it later.\n"
        "\n"
        "Thank you.\n"
    )
