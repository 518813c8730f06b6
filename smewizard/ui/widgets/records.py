"""DNS records to publish: a selectable value plus Copy / Save / (demo) Publish buttons."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static, TextArea

from smewizard.model import Record
from smewizard.ui.messages import CopyRequested, PublishRequested, SaveRequested


def record_heading(record: Record) -> str:
    zone = record.domain
    name = record.relative_name(zone) if zone else record.name
    where = f"  (zone {zone})" if zone else ""
    return f"{record.rtype}  {name}{where}  TTL {record.ttl}"


class RecordCard(Vertical):
    """One record. The value sits in a read-only TextArea so it can also be selected by hand."""

    def __init__(self, record: Record, index: int, can_publish: bool) -> None:
        super().__init__(classes="record")
        self.record = record
        self.index = index
        self.can_publish = can_publish

    def compose(self) -> ComposeResult:
        yield Static(Content(record_heading(self.record)), classes="record-heading")
        if self.record.optional:
            yield Static(Content("Optional, not proposed: publish only in the case below."),
                         classes="record-note record-optional")
        if self.record.note:
            yield Static(Content(self.record.note), classes="record-note")
        value = TextArea(
            self.record.value, read_only=True, soft_wrap=True, classes="record-value",
            show_line_numbers=False,
        )
        value.can_focus = True
        yield value
        with Horizontal(classes="buttons"):
            yield Button("Copy", compact=True, classes="copy-value", tooltip="copy the value as one string")
            if self.record.rtype == "TXT" and len(self.record.chunks()) > 1:
                yield Button("Copy 255-chunked", compact=True, classes="copy-chunks",
                             tooltip='copy as "…" "…" strings of at most 255 octets')
            yield Button("Save to file", compact=True, classes="save-one")
            if self.can_publish:
                yield Button("Publish in demo DNS", compact=True, classes="publish", variant="success")

    @on(Button.Pressed, ".copy-value")
    def _copy_value(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(CopyRequested(self.record, "value"))

    @on(Button.Pressed, ".copy-chunks")
    def _copy_chunks(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(CopyRequested(self.record, "chunks"))

    @on(Button.Pressed, ".save-one")
    def _save(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(SaveRequested((self.record,), record_file_stem(self.record)))

    @on(Button.Pressed, ".publish")
    def _publish(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(PublishRequested(self.record))


def record_file_stem(record: Record) -> str:
    return f"{record.name}-{record.rtype}".lower()


class RecordsList(Vertical):
    def __init__(self, records: tuple[Record, ...], can_publish: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.records = records
        self.can_publish = can_publish

    def compose(self) -> ComposeResult:
        if not self.records:
            yield Static("No DNS records to publish.", classes="empty")
            return
        for index, record in enumerate(self.records):
            yield RecordCard(record, index, self.can_publish)
