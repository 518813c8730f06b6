"""Requests a step view sends up to the app, which owns the context and runs the workers."""

from __future__ import annotations

from textual.message import Message

from smewizard.model import Record


class ReverifyRequested(Message):
    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class ApplyRequested(Message):
    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class CopyRequested(Message):
    """Copy `text` (a rendering of `record`); `form` says which rendering, for the notice."""

    def __init__(self, record: Record, form: str) -> None:
        super().__init__()
        self.record = record
        self.form = form


class SaveRequested(Message):
    def __init__(self, records: tuple[Record, ...], stem: str) -> None:
        super().__init__()
        self.records = records
        self.stem = stem


class PublishRequested(Message):
    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record
