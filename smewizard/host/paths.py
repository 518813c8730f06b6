"""Pieces shared by every Host implementation: the root-prefix mapping, link resolution in SME
path space, and the server's own user/group tables."""

from __future__ import annotations

from collections.abc import Callable

from smewizard.host.base import FileStat
from smewizard.validate import sme_path

MAX_LINK_HOPS = 40


class RootMap:
    """Maps SME absolute paths into a root prefix ("/" when root is None) and back."""

    def __init__(self, root: str | None):
        self.root = root.rstrip("/") if root and root != "/" else None

    def real(self, path: str) -> str:
        sme_path(path)
        return path if self.root is None else self.root + path

    def unmap(self, real_path: str) -> str:
        if self.root is None:
            return real_path
        if real_path == self.root:
            return "/"
        if real_path.startswith(self.root + "/"):
            return real_path[len(self.root):]
        return real_path


def normalise(path: str) -> str:
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out:
                out.pop()
            continue
        out.append(part)
    return "/" + "/".join(out)


def resolve_links(stat: Callable[[str], FileStat | None], path: str) -> str | None:
    """Follow symlinks component by component in SME path space; None if dangling/looping."""
    current = path
    for _ in range(MAX_LINK_HOPS):
        parts = [p for p in current.split("/") if p]
        resolved = ""
        for i, part in enumerate(parts):
            candidate = resolved + "/" + part
            st = stat(candidate)
            if st is None:
                return None
            if st.is_symlink and st.link_target is not None:
                target = st.link_target
                if not target.startswith("/"):
                    target = (resolved or "") + "/" + target
                rest = "/".join(parts[i + 1:])
                current = normalise(target + ("/" + rest if rest else ""))
                break
            resolved = candidate
        else:
            return resolved or "/"
    return None


class NameTable:
    """uid/gid ↔ name from the text of an /etc/passwd or /etc/group file."""

    def __init__(self, text: str = ""):
        self.by_id: dict[int, str] = {}
        self.by_name: dict[str, int] = {}
        for line in text.splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[2].isdigit():
                self.by_id.setdefault(int(fields[2]), fields[0])
                self.by_name.setdefault(fields[0], int(fields[2]))

    def name(self, number: int) -> str:
        return self.by_id.get(number, str(number))
