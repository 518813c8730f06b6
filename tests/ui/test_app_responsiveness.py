"""What keeps the wizard responsive while it audits: the cycle collector's full passes skip the
objects that existed before the probes started, and get them back once no probe runs (so
nothing is kept alive for good)."""

from __future__ import annotations

import gc

from smewizard.steps.base import Context
from smewizard.ui.app import SmeWizardApp
from tests.ui.test_app import audited, until


async def test_objects_are_left_out_of_full_collections_only_while_probing(sim_dns):
    sim, dns = sim_dns("demo")
    app = SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="test", env={})
    frozen_while_probing: list[int] = []
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the first audit finished")
        assert gc.get_freeze_count() == 0
        app.set_interval(0.01, lambda: app.probing and frozen_while_probing.append(gc.get_freeze_count()))
        app.action_rerun_audit()
        await until(pilot, lambda: bool(frozen_while_probing), "probing seen")
        await until(pilot, lambda: audited(app), "the re-audit finished")
        assert gc.get_freeze_count() == 0
    assert min(frozen_while_probing) > 0
    assert gc.get_freeze_count() == 0
