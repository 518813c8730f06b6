"""kill -9 between (and in the middle of) actions: the journal says what was interrupted, a new
apply refuses until the run is continued or undone, and both ways end in a consistent server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from smewizard.actions.base import SetProp, SignalEvent
from smewizard.actions.journal import interrupted_runs
from smewizard.actions.plan import dump_plan
from smewizard.sme.db import read_db

PLAN = [
    SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim"),
    SetProp("configuration", "qpsmtpd", "HeloHost", "mail.example.com", step="helo"),
    SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce"),
    SignalEvent("email-update"),
]


def smewizard(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smewizard", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=120, stdin=subprocess.DEVNULL, **kw,
    )


def start_and_kill(root: Path, plan: Path, pause: str) -> None:
    """Run `apply --plan --yes` until it reports the pause, then SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smewizard", "apply", "--root", str(root), "--plan", str(plan), "--yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SMEWIZARD_TEST_PAUSE": pause},
    )
    try:
        for line in proc.stderr:
            if "smewizard-test: paused" in line:
                break
        else:
            pytest.fail(f"the apply never reached the pause: exit {proc.wait()}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def props(host) -> tuple:
    cfg = read_db(host, "configuration")
    return (cfg.prop("qpsmtpd", "DKIMSigning"), cfg.prop("qpsmtpd", "HeloHost"),
            cfg.prop("qmail", "DoubleBounceTo"))


@pytest.fixture
def killed(sim_root, tmp_path):
    """A demo server whose apply was killed -9 after action 0 and 1, before action 2."""
    sim = sim_root("demo")
    plan = tmp_path / "plan.json"
    plan.write_text(dump_plan(PLAN))
    original = props(sim.host())
    start_and_kill(sim.root, plan, "before:2")
    return sim, plan, original


def test_next_start_says_what_was_interrupted_and_refuses_a_new_apply(killed):
    sim, plan, original = killed
    (run,) = interrupted_runs(sim.host())
    assert run.completed_ok == [0, 1] and run.half_done == []
    assert props(sim.host())[:2] == ("enabled", "mail.example.com")

    again = smewizard("apply", "--root", str(sim.root), "--plan", str(plan), "--yes")
    assert again.returncode == 4
    assert "was interrupted" in again.stderr
    assert "not run:     Set configuration qmail DoubleBounceTo" in again.stderr
    assert "smewizard apply --resume" in again.stderr and "smewizard undo --last" in again.stderr


def test_resume_finishes_the_interrupted_run(killed):
    sim, plan, original = killed
    done = smewizard("apply", "--root", str(sim.root), "--resume", "--yes")
    assert done.returncode == 0, done.stderr
    assert props(sim.host()) == ("enabled", "mail.example.com", "devnull")
    assert interrupted_runs(sim.host()) == []


def test_undo_last_restores_what_the_interrupted_run_changed(killed):
    sim, plan, original = killed
    undone = smewizard("undo", "--root", str(sim.root), "--last", "--yes")
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert props(sim.host()) == original
    assert interrupted_runs(sim.host()) == []


def test_kill_in_the_middle_of_an_action_is_reported_half_done(sim_root, tmp_path):
    sim = sim_root("demo")
    plan = tmp_path / "plan.json"
    plan.write_text(dump_plan(PLAN))
    original = props(sim.host())
    start_and_kill(sim.root, plan, "during:1")
    (run,) = interrupted_runs(sim.host())
    assert run.completed_ok == [0] and run.half_done == [1]
    status = smewizard("undo", "--root", str(sim.root), "--list")
    assert "INTERRUPTED" in status.stdout
    undone = smewizard("undo", "--root", str(sim.root), "--yes")
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert props(sim.host()) == original


def test_check_also_reports_the_interrupted_run(killed):
    sim, plan, original = killed
    checked = smewizard("check", "--root", str(sim.root), "--step", "helo",
                        "--nameserver", "127.0.0.1:9", "--dns-timeout", "0.2")
    assert checked.returncode in (0, 1)
    assert "was interrupted" in checked.stderr and "smewizard undo --last" in checked.stderr


def test_an_interrupted_undo_can_be_resumed(sim_root, tmp_path):
    sim = sim_root("demo")
    plan = tmp_path / "plan.json"
    plan.write_text(dump_plan(PLAN))
    original = props(sim.host())
    assert smewizard("apply", "--root", str(sim.root), "--plan", str(plan), "--yes").returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "smewizard", "undo", "--root", str(sim.root), "--last", "--yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SMEWIZARD_TEST_PAUSE": "before:2"},
    )
    for line in proc.stderr:
        if "smewizard-test: paused" in line:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    (run,) = interrupted_runs(sim.host())
    assert run.kind == "undo"
    done = smewizard("apply", "--root", str(sim.root), "--resume", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert props(sim.host()) == original
    listing = smewizard("undo", "--root", str(sim.root), "--list").stdout
    assert "undone by" in listing.splitlines()[0]
