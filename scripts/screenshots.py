#!/usr/bin/env python3
"""Regenerate every SVG in screenshots/ from the demo scenario.

    .venv/bin/python scripts/screenshots.py [--out screenshots]

Each screenshot is taken by driving the real app (App.run_test + Pilot) against a simulated SME
root and the embedded DNS server, exactly as `smewizard demo` runs it. The header shows no temp
path or port, so re-running gives the same pictures unless the UI changed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from smewizard.ui.app import SmeWizardApp
from smewizard.ui.demo import DemoSession
from smewizard.ui.screens.confirm import ConfirmApply

LABEL = "simulated SME root · demo · DNS 127.0.0.1"
Scene = Callable[[SmeWizardApp, Pilot], Awaitable[bool]]


async def until(pilot: Pilot, condition: Callable[[], bool], limit: int = 400) -> bool:
    for _ in range(limit):
        if condition():
            return True
        await pilot.pause(0.05)
    return False


def audited(app: SmeWizardApp) -> bool:
    return not app.probing and all(
        k in app.assessments or k in app.errors for k, s in app.available.items() if s
    )


async def shell(app: SmeWizardApp, pilot: Pilot) -> bool:
    return True


async def spf_one_domain(app: SmeWizardApp, pilot: Pilot) -> bool:
    app.action_go_step("spf")
    app.select_domain("shop.example.net")
    await pilot.pause(0.3)
    return True


async def spf_after_publish(app: SmeWizardApp, pilot: Pilot) -> bool:
    app.action_go_step("spf")
    app.select_domain("shop.example.net")
    await pilot.pause(0.3)
    app.publish(app.current_records()[0])
    await until(pilot, lambda: "spf" in app.probing)
    return await until(pilot, lambda: audited(app))


async def confirm_apply(app: SmeWizardApp, pilot: Pilot) -> bool:
    key = next((k for k, a in app.assessments.items() if a.actions), None)
    if key is None:
        return False
    app.action_go_step(key)
    await pilot.pause(0.3)
    await pilot.press("a")
    return await until(pilot, lambda: isinstance(app.screen, ConfirmApply))


async def confirm_dkim_scrolled(app: SmeWizardApp, pilot: Pilot) -> bool:
    """The DKIM confirmation at 80x24: commands in execution order, scrolled one page down, with
    the 'n more below' line and the buttons still on screen."""
    app.action_go_step("dkim")
    await pilot.pause(0.3)
    await pilot.press("a")
    if not await until(pilot, lambda: isinstance(app.screen, ConfirmApply)):
        return False
    await pilot.pause(0.3)
    await pilot.press("pagedown")
    await pilot.pause(0.3)
    return True


async def palette(app: SmeWizardApp, pilot: Pilot) -> bool:
    """The palette on the SPF step, where its records can be copied."""
    app.action_go_step("spf")
    await pilot.pause(0.3)
    await pilot.press("ctrl+p")
    await pilot.pause(0.5)
    await pilot.press(*"copy")
    await pilot.pause(0.5)
    return True


async def finding_expanded(app: SmeWizardApp, pilot: Pilot) -> bool:
    from smewizard.ui.widgets.findings import FindingItem

    app.action_go_step("spf")
    app.select_domain("example.com")
    await pilot.pause(0.3)
    item = app.query(FindingItem).first()
    item.collapsed = False
    item.scroll_visible(animate=False, top=True)
    await pilot.pause(0.3)
    return True


async def dkim(app: SmeWizardApp, pilot: Pilot) -> bool:
    app.action_go_step("dkim")
    await pilot.pause(0.3)
    return bool(app.query(".dkim-panel"))


async def dkim_after_apply(app: SmeWizardApp, pilot: Pilot) -> bool:
    """The demo's DKIM fixes applied (as after a confirmed apply): records to publish, BIND line."""
    app.action_go_step("dkim")
    await pilot.pause(0.3)
    app.apply_worker("dkim", app.assessments["dkim"].actions)
    await until(pilot, lambda: "dkim" in app.probing)
    await until(pilot, lambda: audited(app))
    app.select_domain("shop.example.net")
    await pilot.pause(0.5)
    return bool(app.query(".dkim-bind"))


def step_screen(key: str) -> Scene:
    """A step's screen for all domains, once the audit has run."""

    async def scene(app: SmeWizardApp, pilot: Pilot) -> bool:
        app.action_go_step(key)
        await pilot.pause(0.3)
        return key in app.assessments

    return scene


async def dmarc(app: SmeWizardApp, pilot: Pilot) -> bool:
    app.action_go_step("dmarc")
    app.select_domain("example.com")
    await pilot.pause(0.3)
    return bool(app.query(".dmarc-panel"))


async def dmarc_with_reports(app: SmeWizardApp, pilot: Pilot) -> bool:
    """The demo after creating dmarc-feedback, publishing the proposed record and receiving
    20 days of aggregate reports (the relay is missing from SPF and its mail fails DMARC)."""
    from datetime import timedelta

    from smewizard.actions.base import SignalEvent
    from smewizard.dmarc.sample import SampleRow, gzipped, report_mail, report_xml
    from smewizard.steps.dmarc import CreatePseudonym

    app.action_go_step("dmarc")
    app.select_domain("example.com")
    await pilot.pause(0.3)
    actions = tuple(a for a in app.assessments["dmarc"].actions if isinstance(a, CreatePseudonym | SignalEvent))
    app.apply_worker("dmarc", actions)
    await until(pilot, lambda: "dmarc" in app.probing)
    await until(pilot, lambda: audited(app))
    record = next(r for r in app.assessments["dmarc"].records if r.domain == "example.com")
    app.publish(record)
    await until(pilot, lambda: "dmarc" in app.probing)
    await until(pilot, lambda: audited(app))
    new = app.ctx.host.root / "home/e-smith/Maildir/new"
    new.mkdir(parents=True, exist_ok=True)
    for day in range(20):
        begin = int((app.ctx.clock() - timedelta(days=20 - day)).timestamp())
        rows = [SampleRow("203.0.113.10", 60 + day), SampleRow("198.51.100.25", 12, dkim="fail", spf="fail"),
                SampleRow("192.0.2.66", 3 + day % 5, dkim="fail", spf="fail")]
        xml = report_xml("example.com", rows, report_id=f"demo-{day}", begin=begin)
        (new / f"{day}.demo").write_bytes(report_mail(gzipped(xml), f"r{day}.xml.gz", domain="example.com"))
    app.reverify("dmarc")
    await until(pilot, lambda: "dmarc" in app.probing)
    await until(pilot, lambda: audited(app))
    await pilot.pause(0.3)
    return bool(app.query(".dmarc-sources"))


async def dashboard(app: SmeWizardApp, pilot: Pilot) -> bool:
    """The home screen: the Summary Checklist of the demo server."""
    await app.action_go_dashboard()
    await pilot.pause(0.3)
    return bool(app.query("#checklist"))


VERIFY_HEADER = """Authentication-Results: mx.google.com;
   dkim=pass header.i=@example.org header.s=default header.b=AbCdEfGh;
   spf=softfail (google.com: domain of alice@example.org does not designate 198.51.100.25 as permitted sender)
       smtp.mailfrom=alice@example.org;
   dmarc=fail (p=NONE sp=NONE dis=NONE) header.from=example.org"""


async def verify_explained(app: SmeWizardApp, pilot: Pilot) -> bool:
    """Test & logs: the log's verdicts and a pasted Authentication-Results header explained."""
    from textual.widgets import TextArea

    app.action_go_step("verify")
    await pilot.pause(0.3)
    if not app.query("#ar-text"):
        return False
    app.query_one("#ar-text", TextArea).text = VERIFY_HEADER
    await pilot.click("#explain")
    await pilot.pause(0.3)
    app.query_one("#explainer").scroll_visible(animate=False, top=True)
    await pilot.pause(0.2)
    return bool(app.query(".ar-result"))


SCENES: list[tuple[str, tuple[int, int], Scene]] = [
    ("shell", (120, 40), shell),
    ("shell-80x24", (80, 24), shell),
    ("spf", (120, 40), spf_one_domain),
    ("spf-finding-explained", (100, 32), finding_expanded),
    ("spf-after-publish", (120, 40), spf_after_publish),
    ("confirm-apply", (100, 32), confirm_apply),
    ("confirm-apply-80x24", (80, 24), confirm_dkim_scrolled),
    ("command-palette", (100, 32), palette),
    ("dkim", (120, 48), dkim),
    ("dkim-after-apply", (120, 48), dkim_after_apply),
    ("dmarc", (120, 48), dmarc),
    ("dmarc-with-reports", (120, 60), dmarc_with_reports),
    ("helo", (120, 64), step_screen("helo")),
    ("bounce", (120, 48), step_screen("bounce")),
    ("spamassassin", (120, 48), step_screen("spamassassin")),
    ("dashboard", (120, 32), dashboard),
    ("verify-explained", (120, 48), verify_explained),
]


async def take(name: str, size: tuple[int, int], scene: Scene, out: Path) -> bool:
    with DemoSession("demo") as demo:
        assert demo.ctx is not None and demo.auth_server is not None
        app = SmeWizardApp(demo.ctx, server_label=LABEL, publisher=demo.auth_server.publish, env={})
        async with app.run_test(size=size) as pilot:
            if not await until(pilot, lambda: audited(app)):
                print(f"{name}: the audit did not finish", file=sys.stderr)
                return False
            await pilot.pause(0.2)
            if not await scene(app, pilot):
                print(f"{name}: skipped (nothing to show yet)", file=sys.stderr)
                return False
            await pilot.pause(0.3)
            app.save_screenshot(filename=f"{name}.svg", path=str(out))
            print(out / f"{name}.svg")
            return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    parser.add_argument("only", nargs="*", help="scene names (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ok = True
    for name, size, scene in SCENES:
        if args.only and name not in args.only:
            continue
        ok &= asyncio.run(take(name, size, scene, args.out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
