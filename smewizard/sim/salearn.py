"""A `sa-learn` for the simulated SME root, answering `--dump magic` like the real one.

Output format captured from Debian's SpamAssassin 4.0.1 (see tests/lab/test_sa_learn.py):
trained, one `0.000  0  <value>  0  non-token data: <name>` line per field; empty, nothing on
stdout, `ERROR: Bayes dump returned an error, please re-run with -D for more information` on
stderr and exit 2. The simulated db is a small JSON file inside the root.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE = "/var/spool/spamd/.spamassassin/sim-bayes.json"
SHIM = "/usr/bin/sa-learn"
_FIELDS = (
    "bayes db version",
    "nspam",
    "nham",
    "ntokens",
    "oldest atime",
    "newest atime",
    "last journal sync atime",
    "last expiry atime",
    "last expire atime delta",
    "last expire reduction count",
)


def install_sa_learn(
    root: str | Path,
    *,
    nspam: int | None = None,
    nham: int = 0,
    ntokens: int = 0,
    atime: int = 1_700_000_000,
) -> Path:
    """Install the shim in <root>/usr/bin; with `nspam` given, also a trained db."""
    root = Path(root)
    shim = root / SHIM.lstrip("/")
    shim.parent.mkdir(parents=True, exist_ok=True)
    shim.write_text(
        f"#!{sys.executable}\nfrom smewizard.sim.salearn import main\nraise SystemExit(main())\n"
    )
    os.chmod(shim, 0o755)
    state = root / STATE.lstrip("/")
    if nspam is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(
            json.dumps({"nspam": nspam, "nham": nham, "ntokens": ntokens, "atime": atime})
        )
    elif state.exists():
        state.unlink()
    return shim


def dump_magic(data: dict) -> str:
    values = {
        "bayes db version": 3,
        "nspam": data["nspam"],
        "nham": data["nham"],
        "ntokens": data["ntokens"],
        "oldest atime": data["atime"],
        "newest atime": data["atime"],
    }
    return "".join(
        f"0.000          0 {values.get(f, 0):>10}          0  non-token data: {f}\n"
        for f in _FIELDS
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:2] != ["--dump", "magic"]:
        print("sa-learn (simulated): only --dump magic is supported", file=sys.stderr)
        return 64
    shim_root = Path(sys.argv[0]).resolve().parents[2]  # the shim is <root>/usr/bin/sa-learn
    state = shim_root / STATE.lstrip("/")
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        print(
            "ERROR: Bayes dump returned an error, please re-run with -D for more information",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(dump_magic(data))
    return 0
