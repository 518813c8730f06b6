"""The demo session: a simulated SME root in a temp dir, served by the embedded DNS server.

Reached through exactly the production path: LocalHost(root) and Dns([server address]); the
one difference is DemoHost.tcp_endpoint, because a simulated server has no network services of
its own (its "127.0.0.1:25" would be this machine's mail server, which could send real mail).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from smewizard import validate
from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer
from smewizard.host import LocalHost
from smewizard.host.base import HostError
from smewizard.steps.base import Context

DEFAULT_SCENARIO = "demo"


def scenario_names() -> list[str]:
    from smewizard.sim import SCENARIOS

    return sorted(SCENARIOS)


def check_scenario(name: str) -> str:
    names = scenario_names()
    if name not in names:
        raise validate.InvalidValue(f"unknown scenario {name!r}; choose one of: {', '.join(names)}")
    return name


class DemoHost(LocalHost):
    """The demo's simulated root: files and commands as LocalHost, but no TCP services."""

    def tcp_endpoint(self, host: str, port: int) -> tuple[str, int]:
        raise HostError(
            "the demo's simulated server runs no SMTP service, and nothing is sent from the demo "
            "(its 127.0.0.1 would be this machine's own mail server). On a real server the live "
            "test sends through its qpsmtpd."
        )


class DemoSession:
    """`with DemoSession("demo") as demo: demo.ctx, demo.auth_server, demo.label`."""

    def __init__(self, scenario: str = DEFAULT_SCENARIO, *, dns_timeout: float = 2.0) -> None:
        self.scenario = check_scenario(scenario)
        self.dns_timeout = dns_timeout
        self.tmpdir: Path | None = None
        self.auth_server: AuthServer | None = None
        self.sim = None
        self.ctx: Context | None = None

    def __enter__(self) -> DemoSession:
        from smewizard.sim import build_root

        self.tmpdir = Path(tempfile.mkdtemp(prefix="smewizard-demo-"))
        try:
            self.sim = build_root(self.tmpdir / "root", self.scenario)
            self.auth_server = AuthServer().start()
            self.sim.serve(self.auth_server)
            self.ctx = Context(
                host=DemoHost(self.sim.root),
                dns=Dns([self.auth_server.address], timeout=self.dns_timeout),
            )
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def label(self) -> str:
        ip, port = self.auth_server.address if self.auth_server else ("?", 0)
        return f"simulated SME root · {self.scenario} · DNS {ip}:{port}"

    @property
    def root(self) -> Path:
        assert self.sim is not None
        return self.sim.root

    def close(self) -> None:
        if self.auth_server is not None:
            self.auth_server.stop()
            self.auth_server = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
