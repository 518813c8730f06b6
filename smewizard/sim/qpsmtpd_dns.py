"""SME's `qpsmtpd-dns [domain]` for a simulated root: prints suggested SPF, DKIM and DMARC
records in the layout the guide shows (guide Part 2). Its DKIM record carries `t=y` and its
SPF/DMARC suggestions are the guide's (including the obsolete `IN SPF` line and `pct=100`):
the wizard must not copy them blindly. The exact wording of SME's script is not public in any
index we searched; the layout follows the guide's captured output.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from pathlib import Path

from smewizard.sim.events import DKIM_KEYS, _db, _value
from smewizard.sim.zones import txt_rdata

_INTRO = """Here are sample DNS entries you should add in your public DNS.

There are two DKIM key copies.
Depending on your provider you might be able to copy these as is.

The first has a complete DKIM key with no "" breaks.

The second has the DKIM entry broken into 255 character chunks
with quotes for providers who cannot support long strings.
You may need to separate these with either a space, a newline or
a backslash escaped newline between the "" depending on your
dns provider.

You should either change the reporting email address for DMARC
or create the needed pseudonym 'dmarc-feedback'.
"""


def render(root: Path, domain: str) -> tuple[str, int]:
    keydir = root / DKIM_KEYS / domain
    if not keydir.is_dir():
        keydir = root / DKIM_KEYS / "default"
    try:
        selector = (keydir / "selector").read_text(encoding="utf-8").split("\n")[0]
        public = _public_key(keydir / "default")
    except (OSError, ValueError) as exc:
        return f"qpsmtpd-dns: no usable DKIM key for {domain}: {exc}\n", 1
    record = f"v=DKIM1;p={public};t=y"
    out = [
        _INTRO,
        "DKIM complete",
        "=============",
        " ",
        f"{selector}._domainkey IN TXT {record}",
        " ",
        "DKIM in 255 character chunks",
        "============================",
        " ",
        f"{selector}._domainkey IN TXT {txt_rdata(record)}",
        "",
        "",
        "DMARC records",
        "=============",
        '@ IN SPF "v=spf1 mx a -all"',
        '@ IN TXT "v=spf1 mx a -all"',
        f'_dmarc IN TXT "v=DMARC1; p=none; adkim=s; aspf=r; rua=mailto:dmarc-feedback@{domain}; pct=100"',
    ]
    return "\n".join(out) + "\n", 0


def _public_key(path: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def main(argv: Sequence[str], *, root: str) -> int:
    base = Path(root)
    domain = argv[0] if argv else (_value(_db(base, "configuration"), "DomainName") or "")
    text, status = render(base, domain.lower())
    (sys.stdout if status == 0 else sys.stderr).write(text)
    return status
