"""Generic file actions any step can propose: change owner or mode, create a directory, archive
(move aside) a file or directory, copy a tree, write a small text file.

Each is undoable: `undo_actions()` is computed from the server's state before the change, and
nothing is ever deleted — what the wizard replaces or created is moved aside to
`<path>.smewizard-<stamp>` (see docs/safe-apply.md). Private keys never go through `WriteFile`:
a key is generated on the server by its own action, so no plan, journal or log holds key bytes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from smewizard import validate
from smewizard.actions.base import Action, ActionError
from smewizard.host.base import Host, HostError

ARCHIVE_MARK = ".smewizard-"


def new_stamp() -> str:
    """A stamp for archive names, unique enough per action: 20261125T012016-3f9a."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + f"{time.time_ns() & 0xFFFF:04x}"


def archive_path(path: str, stamp: str) -> str:
    return f"{path}{ARCHIVE_MARK}{validate.stamp(stamp)}"


def _mode_text(mode: int) -> str:
    return f"{mode:04o}"


def _owner_text(owner: str | None, group: str | None) -> str:
    if owner and group:
        return f"{owner}:{group}"
    return owner or (f":{group}" if group else "")


@dataclass(frozen=True)
class Chown(Action):
    """`chown OWNER[:GROUP] PATH` (the link itself when PATH is a link)."""

    path: str
    owner: str
    group: str | None = None
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        validate.user_name(self.owner)
        if self.group is not None:
            validate.group_name(self.group)

    def summary(self) -> str:
        return f"Make {self.path} owned by {_owner_text(self.owner, self.group)}"

    def commands(self) -> list[list[str]]:
        return [["chown", "-h", _owner_text(self.owner, self.group), "--", self.path]]

    def current(self, host: Host) -> str | None:
        st = host.stat(self.path)
        return f"{st.owner}:{st.group}" if st else None

    def target_value(self) -> str | None:
        return _owner_text(self.owner, self.group)

    def execute(self, host: Host) -> str:
        host.chown(self.path, self.owner, self.group)
        return ""

    def undo_actions(self, host: Host) -> list[Action] | None:
        st = host.stat(self.path)
        if st is None:
            return []
        return [Chown(self.path, st.owner, st.group, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        st = host.stat(self.path)
        return bool(st) and st.owner == self.owner and (self.group is None or st.group == self.group)


@dataclass(frozen=True)
class Chmod(Action):
    """`chmod MODE PATH`."""

    path: str
    mode: int
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        validate.file_mode(self.mode)

    def summary(self) -> str:
        return f"Set the mode of {self.path} to {_mode_text(self.mode)}"

    def commands(self) -> list[list[str]]:
        return [["chmod", _mode_text(self.mode), "--", self.path]]

    def current(self, host: Host) -> str | None:
        st = host.stat(self.path)
        return _mode_text(st.mode) if st else None

    def target_value(self) -> str | None:
        return _mode_text(self.mode)

    def execute(self, host: Host) -> str:
        host.chmod(self.path, self.mode)
        return ""

    def undo_actions(self, host: Host) -> list[Action] | None:
        st = host.stat(self.path)
        return [Chmod(self.path, st.mode, self.step, self.domain)] if st else []

    def is_satisfied(self, host: Host) -> bool:
        st = host.stat(self.path)
        return bool(st) and st.mode == self.mode


@dataclass(frozen=True)
class MoveAside(Action):
    """Archive a file or directory by renaming it (`mv -n PATH ARCHIVE`); never deletes.
    `archive` defaults to `<path>.smewizard-<stamp>`. Also used by undo to move things back."""

    path: str
    archive: str = ""
    step: str = ""
    domain: str | None = None
    stamp: str = field(default_factory=new_stamp)

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        validate.stamp(self.stamp)
        if not self.archive:
            object.__setattr__(self, "archive", archive_path(self.path, self.stamp))
        validate.sme_path(self.archive)
        if self.archive.rstrip("/") == self.path.rstrip("/"):
            raise validate.InvalidValue("an archive must have a different name than the original")

    def summary(self) -> str:
        return f"Move {self.path} aside to {self.archive}"

    def commands(self) -> list[list[str]]:
        return [["mv", "-n", "--", self.path, self.archive]]

    def current(self, host: Host) -> str | None:
        return "present" if host.exists(self.path) else "absent"

    def target_value(self) -> str | None:
        return f"moved to {self.archive}"

    def execute(self, host: Host) -> str:
        if not host.exists(self.path):
            raise ActionError(f"{self.path} does not exist; nothing to move aside")
        host.rename(self.path, self.archive)  # refuses to overwrite an existing archive
        return ""

    def undo_actions(self, host: Host) -> list[Action] | None:
        return [MoveAside(self.archive, self.path, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return not host.exists(self.path) and host.exists(self.archive)


@dataclass(frozen=True)
class MakeDir(Action):
    """`mkdir -m MODE PATH` (+ chown); already there counts as done. Undo archives it."""

    path: str
    mode: int = 0o755
    owner: str | None = None
    group: str | None = None
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        validate.file_mode(self.mode)
        if self.owner is not None:
            validate.user_name(self.owner)
        if self.group is not None:
            validate.group_name(self.group)

    def summary(self) -> str:
        return f"Create directory {self.path}"

    def commands(self) -> list[list[str]]:
        cmds = [["mkdir", "-m", _mode_text(self.mode), "--", self.path]]
        if self.owner or self.group:
            cmds.append(["chown", _owner_text(self.owner, self.group), "--", self.path])
        return cmds

    def current(self, host: Host) -> str | None:
        return "present" if host.exists(self.path) else "absent"

    def target_value(self) -> str | None:
        return f"directory, mode {_mode_text(self.mode)}" + (
            f", {_owner_text(self.owner, self.group)}" if self.owner or self.group else ""
        )

    def execute(self, host: Host) -> str:
        if host.exists(self.path):
            return "already present"
        host.mkdir(self.path, mode=self.mode, owner=self.owner, group=self.group)
        return ""

    def undo_actions(self, host: Host) -> list[Action] | None:
        if host.exists(self.path):
            return []
        # Archived, not removed: anything undo moved aside inside it stays reachable.
        return [MoveAside(self.path, step=self.step, domain=self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        st = host.stat(self.path)
        return bool(st) and st.is_dir


@dataclass(frozen=True)
class CopyTree(Action):
    """`cp -a SRC DST` keeping modes and owners; DST must not exist (e.g. migrating DKIM keys
    from a wrong location while the old copy stays valid)."""

    src: str
    dst: str
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.src)
        validate.sme_path(self.dst)

    def summary(self) -> str:
        return f"Copy {self.src} to {self.dst} (keeping owners and modes)"

    def commands(self) -> list[list[str]]:
        return [["cp", "-a", "--", self.src, self.dst]]

    def current(self, host: Host) -> str | None:
        return "present" if host.exists(self.dst) else "absent"

    def target_value(self) -> str | None:
        return f"copy of {self.src}"

    def execute(self, host: Host) -> str:
        host.copy_tree(self.src, self.dst)
        return ""

    def undo_actions(self, host: Host) -> list[Action] | None:
        if host.exists(self.dst):
            return []
        return [MoveAside(self.dst, step=self.step, domain=self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return host.exists(self.dst)


@dataclass(frozen=True)
class WriteFile(Action):
    """Write a small text file atomically with its mode and owner from the first byte. An
    existing file is first copied to `<path>.smewizard-<stamp>` (same mode and owner)."""

    path: str
    content: str
    mode: int = 0o644
    owner: str | None = None
    group: str | None = None
    step: str = ""
    domain: str | None = None
    stamp: str = field(default_factory=new_stamp)

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        validate.file_text(self.content)
        validate.file_mode(self.mode)
        validate.stamp(self.stamp)
        if self.owner is not None:
            validate.user_name(self.owner)
        if self.group is not None:
            validate.group_name(self.group)

    @property
    def backup(self) -> str:
        return archive_path(self.path, self.stamp)

    def summary(self) -> str:
        return f"Write {self.path} ({len(self.content.encode())} bytes, mode {_mode_text(self.mode)})"

    def commands(self) -> list[list[str]]:
        install = ["install", "-m", _mode_text(self.mode)]
        if self.owner:
            install += ["-o", self.owner]
        if self.group:
            install += ["-g", self.group]
        return [[*install, "/dev/stdin", self.path]]

    def commands_for(self, host: Host) -> list[list[str]]:
        if host.exists(self.path):
            return [["cp", "-a", "--", self.path, self.backup], *self.commands()]
        return self.commands()

    def current(self, host: Host) -> str | None:
        if not host.exists(self.path):
            return None
        data = host.read_bytes(self.path, limit=4097)
        return _shown(data.decode("utf-8", "replace"))

    def target_value(self) -> str | None:
        return _shown(self.content)

    def execute(self, host: Host) -> str:
        data = self.content.encode("utf-8")
        st = host.stat(self.path)
        if st is not None:
            if not st.is_file:
                raise ActionError(f"{self.path} is not a regular file; not replacing it")
            if host.exists(self.backup):
                raise ActionError(f"backup {self.backup} already exists; not overwriting it")
            host.write_atomic(self.backup, host.read_bytes(self.path), mode=st.mode, owner=st.owner, group=st.group)
        host.write_atomic(self.path, data, mode=self.mode, owner=self.owner, group=self.group)
        return f"backup at {self.backup}" if st is not None else ""

    def undo_actions(self, host: Host) -> list[Action] | None:
        aside = MoveAside(self.path, step=self.step, domain=self.domain)
        if not host.exists(self.path):
            return [aside]
        return [aside, MoveAside(self.backup, self.path, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        try:
            st = host.stat(self.path)
            return bool(st) and st.mode == self.mode and host.read_bytes(self.path) == self.content.encode()
        except HostError:
            return False


def _shown(text: str) -> str:
    """A file's content for the preview: short printable text as is, else its size."""
    if "PRIVATE KEY" in text:
        return f"(private key, {len(text.encode())} bytes)"
    if len(text) <= 200 and all(c.isprintable() or c in "\n\t" for c in text):
        return text
    return f"({len(text.encode())} bytes)"
