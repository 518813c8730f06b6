"""The SSH session dies while signal-event runs: the apply stops with a clear error, and the
journal on the server says which action was under way and how it ended."""

from __future__ import annotations

import sys

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import SetProp, SignalEvent
from smewizard.actions.journal import read_run
from smewizard.host import LocalHost
from tests.host.test_ssh import AgentOverPipe


def test_connection_lost_during_signal_event(sim_root):
    sim = sim_root("fresh")
    # this server's signal-event takes the session down with it (the agent is its parent)
    event = sim.root / "sbin/e-smith/signal-event"
    event.write_text("#!/bin/sh\nkill -9 $PPID\nsleep 1\n")
    remote = AgentOverPipe(sys.executable, sim.root)
    try:
        report = apply_actions(
            remote,
            [
                SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", record_type="service"),
                SignalEvent("email-update"),
                SetProp("configuration", "qpsmtpd", "HeloHost", "mail.example.com", record_type="service"),
            ],
        )
    finally:
        remote.close()
    assert [o.ok for o in report.outcomes] == [True, False]  # stopped at the lost action
    assert "lost during run" in report.outcomes[1].error
    run = read_run(LocalHost(sim.root), report.run_id)
    assert run is not None
    text = repr(run)
    assert "lost during run" in text  # the journal records why action 2 failed
    assert "HeloHost" not in (sim.root / "home/e-smith/db/configuration").read_text()
