"""DNS: real lookups over the wire (dnspython), and an embedded authoritative server."""

from smewizard.dns.resolver import Dns, Lookup, Outcome, parse_nameserver

__all__ = ["Dns", "Lookup", "Outcome", "parse_nameserver"]
