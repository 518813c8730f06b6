"""Simulated SME Server v10: a directory tree that looks like a real install, with SME's own
`db`, `config` and `signal-event` programs (as shims into this package) inside it.

The wizard reaches it exactly as it reaches a real server: `LocalHost(root)` and the programs on
PATH = <root>/sbin/e-smith. See docs/sme-v10.md for what is verified and what is assumed.

Imports are lazy so that the shims (`db`, `signal-event`) start without loading `cryptography`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smewizard.sim.builder import SimServer, build_root
    from smewizard.sim.scenarios import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Scenario", "SimServer", "build_root"]


def __getattr__(name: str) -> Any:
    if name in ("SimServer", "build_root"):
        from smewizard.sim import builder

        return getattr(builder, name)
    if name in ("SCENARIOS", "Scenario"):
        from smewizard.sim import scenarios

        return getattr(scenarios, name)
    raise AttributeError(name)
