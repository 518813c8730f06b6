"""DNS fixtures: a real authoritative server on loopback and a client pointed at it.

    def test_x(auth_server, dns_client, make_zone):
        make_zone("example.com", txt={"example.com": ["v=spf1 -all"]}, a={"mail.example.com": ["192.0.2.1"]})
        lookup = await dns_client.txt("example.com")

`make_zone(origin, **rrsets)` builds a zone with SOA and NS (glue 127.0.0.1) and sets the given
RRsets: keyword = record type in lower case, value = {name: [values]} (TXT values raw, split
into 255-octet strings by the server; other types in zone-file presentation format).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer


def build_zone(
    server: AuthServer, origin: str, ttl: int = 300, **rrsets: dict[str, list[str]]
) -> None:
    """Add a zone to `server` with SOA/NS (glue 127.0.0.1) and the given RRsets."""
    server.add_zone(origin, ttl=ttl)
    for rtype, by_name in rrsets.items():
        for name, values in by_name.items():
            if rtype.upper() == "TXT":
                server.set_txt(name, list(values), ttl=ttl)
            else:
                server.set_records(name, rtype.upper(), list(values), ttl=ttl)


@pytest.fixture
def auth_server() -> Iterator[AuthServer]:
    """A started AuthServer on 127.0.0.1 (random port), stopped after the test."""
    server = AuthServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dns_client(auth_server: AuthServer) -> Dns:
    """A recursive-mode Dns client that asks only the auth server (1 s timeout)."""
    return Dns([auth_server.address], timeout=1.0)


@pytest.fixture
def make_zone(auth_server: AuthServer) -> Callable[..., AuthServer]:
    """`make_zone(origin, **rrsets)` → the auth server, with that zone added."""

    def make(origin: str, ttl: int = 300, **rrsets: dict[str, list[str]]) -> AuthServer:
        build_zone(auth_server, origin, ttl=ttl, **rrsets)
        return auth_server

    return make
