"""Server changes as data: each action renders to the exact command an admin would type and
executes as argv (or as a Host file operation) after validation."""

from smewizard.actions.base import Action, ActionError, SetProp, SignalEvent

__all__ = ["Action", "ActionError", "SetProp", "SignalEvent"]
