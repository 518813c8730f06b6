"""Simulated SME server fixtures.

def test_x(sim_root):
    sim = sim_root("demo")            # SimServer built in tmp_path
    sim.host().run(["db", "configuration", "show", "qpsmtpd"])

async def test_y(sim_dns):
    sim, dns = sim_dns("good")        # built AND served on the loopback auth_server
    lookup = await dns.txt("example.com")
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from smewizard.dns import Dns
from smewizard.sim import SimServer, build_root


@pytest.fixture
def sim_root(tmp_path: Path) -> Callable[..., SimServer]:
    """`sim_root(scenario="demo", **kw) -> SimServer`, each call in a fresh directory."""
    counter = iter(range(1_000_000))

    def make(scenario: str = "demo", **kwargs) -> SimServer:
        return build_root(tmp_path / f"sme-{scenario}-{next(counter)}", scenario, **kwargs)

    return make


@pytest.fixture
def sim_dns(sim_root, auth_server) -> Callable[..., tuple[SimServer, Dns]]:
    """`sim_dns(scenario="demo", **kw) -> (SimServer, Dns)`: the scenario's zones and failure
    rules are served by the test's loopback auth_server; the Dns client asks only it."""

    def make(scenario: str = "demo", **kwargs) -> tuple[SimServer, Dns]:
        sim = sim_root(scenario, **kwargs)
        sim.serve(auth_server)
        return sim, Dns([auth_server.address], timeout=1.0)

    return make
