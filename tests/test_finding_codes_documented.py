"""Scripts and suppressions rely on finding codes: every code the engine can emit is in the
catalogue (docs/finding-codes.md), and no code is catalogued twice."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r'"((?:SPF|DKIM|DMARC|HELO|BNC|SA|VER)\d{3})"')


def test_every_emitted_code_is_documented_once():
    emitted = {c for p in (ROOT / "smewizard").rglob("*.py") for c in CODE.findall(p.read_text())}
    rows = re.findall(r"^\|\s*`?((?:SPF|DKIM|DMARC|HELO|BNC|SA|VER)\d{3})`?\s*\|", (ROOT / "docs/finding-codes.md").read_text(), re.M)
    assert emitted, "the engine emits codes"
    assert sorted(emitted - set(rows)) == []
    duplicates = sorted({c for c in rows if rows.count(c) > 1})
    assert duplicates == []
