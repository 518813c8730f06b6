"""`smewizard report --format md|json|html [-o FILE]`: the Summary Checklist, every finding and
every record to publish, as one document for the admin's records or a customer.

json is `check --json` (docs/check-json.md) with the checklist included; md is GitHub-flavoured
Markdown; html is one self-contained page (inline CSS, no scripts, no external resources),
every value escaped.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from smewizard import __version__, checklist, validate
from smewizard.commands.check import to_json
from smewizard.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    add_target_options,
    build_context,
    close_host,
)
from smewizard.engine import AuditResult, run_audit
from smewizard.model import Record, Status
from smewizard.steps.registry import STEP_INFO

FORMATS = ("md", "json", "html")
CELL_MARK = {"pass": "✔ pass", "warn": "⚠ warn", "fail": "✖ fail", "unknown": "? unknown", "n.a.": "– n.a."}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write the checklist, findings and records to publish (md, json or html)",
        description="Audit the server and DNS and write a report. Changes nothing on the server.",
        epilog="Exit status, as for `smewizard check`: 0 no finding fails, 1 the report was written "
               "and holds a failing finding, 2 usage error or the target is unusable (nothing written).",
    )
    add_target_options(p)
    p.add_argument("--format", choices=FORMATS, default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output (never overwrites)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = _output_path(args.output) if args.output else None
    ctx = build_context(args)
    try:
        result = asyncio.run(run_audit(ctx))
    finally:
        close_host(ctx)
    text = render(result, ctx.host.description, args.format)
    if target is None:
        sys.stdout.write(text)
    else:
        _write_new(target, text)
        print(f"Report written to {target}", file=sys.stderr)
    return EXIT_FAIL if result.status is Status.FAIL else EXIT_OK


def _output_path(value: str) -> Path:
    path = Path(value)
    if path.exists():
        raise validate.InvalidValue(f"{value} already exists; choose another file name (reports never overwrite)")
    if not path.parent.is_dir():
        raise validate.InvalidValue(f"{path.parent} is not a directory")
    return path


def _write_new(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def render(result: AuditResult, target: str, fmt: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if fmt == "json":
        return json.dumps(to_json(result, target), indent=2) + "\n"
    if fmt == "html":
        return to_html(result, target, now)
    return to_markdown(result, target, now)


def _records(result: AuditResult) -> list[Record]:
    return result.records_to_publish()


def _title(key: str) -> str:
    return next((i.title for i in STEP_INFO if i.key == key), key)


def _columns(cl: checklist.Checklist) -> list[str]:
    return [*cl.domains, "server"]


def _row_cells(cl: checklist.Checklist, item: checklist.Item, cells) -> list[str]:
    by = {c.domain: str(c.cell) for c in cells}
    if item.per_domain:
        return [by.get(d, "n.a.") for d in cl.domains] + [""]
    return [""] * len(cl.domains) + [by[None]]


# ---------------------------------------------------------------- Markdown
def _md(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def to_markdown(result: AuditResult, target: str, now: datetime) -> str:
    cl = checklist.build(result.server.domains, result.assessments)
    lines = [
        f"# smewizard report: {_md(result.server.config.fqdn or target)}",
        "",
        f"Generated {now:%Y-%m-%d %H:%M UTC} by smewizard {__version__} from {_md(target)}. "
        f"Overall: **{result.status}**.",
        "",
        "## Summary checklist",
        "",
        "| Item | Guide | " + " | ".join(_md(c) for c in _columns(cl)) + " |",
        "|---|---|" + "---|" * len(_columns(cl)),
    ]
    for item, cells in cl.rows:
        shown = [CELL_MARK.get(c, c) if c else "" for c in _row_cells(cl, item, cells)]
        lines.append(f"| {_md(item.title)} | {item.part} | " + " | ".join(shown) + " |")
    lines += ["", "## Findings", ""]
    for key, assessment in result.assessments.items():
        lines.append(f"### {_md(_title(key))} ({assessment.status})")
        lines.append("")
        for f in assessment.findings:
            where = f" **{_md(f.domain)}**:" if f.domain else ""
            lines.append(f"- `{f.code}` {f.status}:{where} {_md(f.message)}")
        lines.append("")
    records = _records(result)
    lines += ["## DNS records to publish", ""]
    if not records:
        lines.append("None: DNS already has what the wizard expects.")
    for record in records:
        lines += [f"- `{_md(record.name)}` {record.rtype} (TTL {record.ttl})", "", "  ```",
                  f"  {record.value}", "  ```", ""]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.pass{background:#dfd}.warn{background:#ffd}.fail{background:#fdd}.unknown{background:#eee}.na{color:#888}
.info{background:#def}code,pre{background:#f6f6f6;padding:.1em .3em;white-space:pre-wrap;word-break:break-all}
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def to_html(result: AuditResult, target: str, now: datetime) -> str:
    cl = checklist.build(result.server.domains, result.assessments)
    title = f"smewizard report: {result.server.config.fqdn or target}"
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_h(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_h(title)}</h1>",
        f"<p>Generated {_h(f'{now:%Y-%m-%d %H:%M UTC}')} by smewizard {_h(__version__)} from {_h(target)}. "
        f"Overall: <strong class=\"{_h(result.status)}\">{_h(result.status)}</strong>.</p>",
        "<h2>Summary checklist</h2><table><tr><th>Item</th><th>Guide</th>"
        + "".join(f"<th>{_h(c)}</th>" for c in _columns(cl)) + "</tr>",
    ]
    for item, cells in cl.rows:
        tds = "".join(
            f'<td class="{"na" if c == "n.a." else _h(c)}">{_h(CELL_MARK.get(c, c))}</td>' if c else "<td></td>"
            for c in _row_cells(cl, item, cells)
        )
        out.append(f"<tr><td>{_h(item.title)}</td><td>{_h(item.part)}</td>{tds}</tr>")
    out.append("</table><h2>Findings</h2>")
    for key, assessment in result.assessments.items():
        out.append(f"<h3>{_h(_title(key))} ({_h(assessment.status)})</h3><table>")
        for f in assessment.findings:
            out.append(
                f'<tr><td><code>{_h(f.code)}</code></td><td class="{_h(f.status)}">{_h(f.status)}</td>'
                f"<td>{_h(f.domain or 'server')}</td><td>{_h(f.message)}"
                + (f"<br><small>{_h(f.explanation)}</small>" if f.explanation else "") + "</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>DNS records to publish</h2>")
    records = _records(result)
    if not records:
        out.append("<p>None: DNS already has what the wizard expects.</p>")
    for record in records:
        out.append(f"<p><code>{_h(record.name)}</code> {_h(record.rtype)} TTL {record.ttl}</p>"
                   f"<pre>{_h(record.value)}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
