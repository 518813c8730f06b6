"""The server and the client inside a running Textual app: async and thread workers."""

from __future__ import annotations

from textual.app import App

from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer


class LookupApp(App):
    """Starts its own AuthServer on mount, publishes a record, looks it up from workers."""

    def __init__(self) -> None:
        super().__init__()
        self.server = AuthServer()
        self.results: dict[str, tuple[str, ...]] = {}

    def on_mount(self) -> None:
        self.server.start()
        self.server.add_zone("example.com")
        self.server.set_txt("example.com", ["v=spf1 -all"])
        self.dns = Dns([self.server.address], timeout=1.0)
        self.run_worker(self.async_lookup(), group="dns")
        self.run_worker(self.thread_lookup, thread=True, group="dns")

    async def async_lookup(self) -> None:
        self.results["async"] = (await self.dns.txt("example.com")).values

    def thread_lookup(self) -> None:
        self.results["thread"] = self.dns.lookup_sync("example.com", "TXT").values

    def on_unmount(self) -> None:
        self.server.stop()


async def test_lookups_from_workers_of_a_running_app():
    app = LookupApp()
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.results == {"async": ("v=spf1 -all",), "thread": ("v=spf1 -all",)}
    assert not app.server.running
