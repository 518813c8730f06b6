"""Command palette entries for every wizard action (the app lists them in palette_commands)."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider


class WizardCommands(Provider):
    def _commands(self):
        commands = getattr(self.app, "palette_commands", None)
        return commands() if commands is not None else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, text=command.title, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run,
                          text=command.title, help=command.help)
