"""DKIM server changes (guide Part 2): generate a key, migrate keys from a wrong location,
fix ownership and mode, rewrite the selector file, switch to a staged key (rotation).

Each action renders the shell an admin would type (the guide's mkdir/openssl/chown/chmod lines,
made safe with `umask 077`) and executes through Host file operations: the private key is
written by `write_atomic` with mode 0400 and owner qpsmtpd from its first byte, never shown,
returned or logged. Nothing is overwritten or deleted: an existing key directory is renamed to
`<dir>.OLD-backup-YYYYMMDD`, and undo moves things back the same way.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import ClassVar

from smewizard import validate
from smewizard.actions.base import Action, ActionError
from smewizard.host.base import Host, HostError
from smewizard.mail import dkim as mk

OWNER = mk.KEY_OWNER
DIR_MODE = 0o700
SELECTOR_MODE = 0o644


def validate_key_name(name: str) -> str:
    """A hosted domain, or `default` for the server-wide fallback key."""
    if name == mk.DEFAULT_KEY_NAME:
        return name
    return validate.domain_name(name)


def validate_stamp(stamp: str) -> str:
    if not isinstance(stamp, str) or not re.fullmatch(r"20[0-9]{6}", stamp):
        raise validate.InvalidValue(f"archive date {stamp!r} must be YYYYMMDD")
    return stamp


def free_archive_path(host: Host, path: str, stamp: str) -> str:
    parent, _, base = path.rpartition("/")
    try:
        taken = frozenset(f"{parent}/{e}" for e in host.list_dir(parent or "/") if e.startswith(base))
    except HostError:
        taken = frozenset()
    return mk.archive_name(path, stamp, taken)


def _printf_line(text: str, path: str) -> str:
    return f"printf '%s\\n' {shlex.quote(text)} > {shlex.quote(path)}"


def _printf_b_escape(text: str) -> str:
    """`text` as a printf %b argument: every control character and backslash as an escape."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\r\n\t":
            out.append({"\r": "\\r", "\n": "\\n", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\0{ord(ch):03o}")
        else:
            out.append(ch)
    return "".join(out)


def _chown_tree(host: Host, path: str) -> None:
    host.chown(path, OWNER, OWNER)
    for entry in host.list_dir(path):
        st = host.stat(f"{path}/{entry}")
        if st is None or st.is_symlink:
            continue
        if st.is_dir:
            _chown_tree(host, f"{path}/{entry}")
        else:
            host.chown(f"{path}/{entry}", OWNER, OWNER)


# ------------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class MovePath(Action):
    """`mv SRC DST` that never overwrites: archives a key folder or moves it back (undo)."""

    src: str
    dst: str
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.src)
        validate.sme_path(self.dst)

    def summary(self) -> str:
        return f"Move {self.src} to {self.dst}"

    def commands(self) -> list[list[str]]:
        return [["mv", self.src, self.dst]]

    def current(self, host: Host) -> str | None:
        return self.src if host.exists(self.src) else None

    def target_value(self) -> str | None:
        return self.dst

    def execute(self, host: Host) -> str:
        host.rename(self.src, self.dst)
        return f"moved {self.src} to {self.dst}"

    def undo_actions(self, host: Host) -> list[Action] | None:
        return [MovePath(self.dst, self.src, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return not host.exists(self.src) and host.exists(self.dst)


@dataclass(frozen=True)
class RestoreOwnerMode(Action):
    """Put back a file's previous owner, group and mode (undo of FixDkimKeyPermissions)."""

    path: str
    owner: str
    group: str
    mode: int
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        if not self.owner.isdigit():
            validate.user_name(self.owner)
        if not self.group.isdigit():
            validate.user_name(self.group)

    def summary(self) -> str:
        return f"Restore {self.path} to {self.owner}:{self.group} mode {self.mode:04o}"

    def commands(self) -> list[list[str]]:
        return [["chown", f"{self.owner}:{self.group}", self.path],
                ["chmod", f"{self.mode:o}", self.path]]

    def target_value(self) -> str | None:
        return f"{self.owner}:{self.group} {self.mode:04o}"

    def execute(self, host: Host) -> str:
        host.chown(self.path, self.owner, self.group)
        host.chmod(self.path, self.mode)
        return self.summary()


@dataclass(frozen=True)
class RestoreSelectorFile(Action):
    """Put back a selector file's previous bytes (public data; undo of WriteDkimSelector)."""

    path: str
    content: str
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.sme_path(self.path)
        if "\x00" in self.content or len(self.content) > 512:
            raise validate.InvalidValue("selector file content is not plain text")

    def summary(self) -> str:
        return f"Restore the previous content of {self.path}"

    def commands(self) -> list[list[str]]:
        return [["printf", "%s", self.content]]

    def shell_for(self, host: Host) -> list[str]:
        return self.shell()  # the rendered script, not only the argv commands

    def shell(self) -> list[str]:
        # %b with backslash escapes: the old content is typically 'default\r\n', and a raw CR in
        # the shown command would break the line (or overwrite it on a terminal).
        return [f"printf '%b' {shlex.quote(_printf_b_escape(self.content))} > {shlex.quote(self.path)}"]

    def current(self, host: Host) -> str | None:
        try:
            return repr(host.read_bytes(self.path, limit=256).decode("utf-8", "replace"))
        except HostError:
            return None

    def target_value(self) -> str | None:
        return repr(self.content)

    def execute(self, host: Host) -> str:
        host.write_atomic(self.path, self.content.encode("utf-8"), mode=SELECTOR_MODE, owner=OWNER, group=OWNER)
        return self.summary()


# ------------------------------------------------------------------------------- generate
@dataclass(frozen=True)
class GenerateDkimKey(Action):
    """A new 2048-bit RSA key and selector file in `dkim_keys/<name>/` (or the staged
    `<name>.next/` during a rotation). Refuses to touch an existing folder unless
    `archive_existing`, which renames it to `<dir>.OLD-backup-YYYYMMDD` first."""

    name: str  # domain or "default"
    selector: str
    stamp: str  # YYYYMMDD, names archives (`<dir>.OLD-backup-<stamp>`)
    staged: bool = False
    archive_existing: bool = False
    bits: int = mk.GENERATED_BITS
    step: str = "dkim"
    domain: str | None = None
    why: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        validate_stamp(self.stamp)
        validate.dns_label(self.selector)
        if self.selector != self.selector.lower():
            raise validate.InvalidValue(f"selector {self.selector!r} must be lower case")
        if self.bits not in (2048, 3072, 4096):
            raise validate.InvalidValue("key size must be 2048, 3072 or 4096 bits")

    @property
    def directory(self) -> str:
        return mk.staged_dir(self.name) if self.staged else mk.key_dir(self.name)

    @property
    def key_path(self) -> str:
        return f"{self.directory}/{mk.PRIVATE_FILE}"

    @property
    def selector_path(self) -> str:
        return f"{self.directory}/{mk.SELECTOR_FILE}"

    def summary(self) -> str:
        what = "the server-wide default key" if self.name == mk.DEFAULT_KEY_NAME else self.name
        stage = " (staged for rotation, not signing yet)" if self.staged else ""
        return f"Generate a {self.bits}-bit DKIM key for {what}, selector {self.selector}{stage}"

    def commands(self) -> list[list[str]]:
        cmds: list[list[str]] = []
        if self.archive_existing:
            cmds.append(["mv", self.directory, mk.archive_name(self.directory, self.stamp)])
        cmds += [
            ["mkdir", "-p", self.directory],
            ["openssl", "genrsa", "-out", self.key_path, str(self.bits)],
            ["chown", "-R", f"{OWNER}:{OWNER}", self.directory],
            ["chmod", "400", self.key_path],
        ]
        return cmds

    def shell_for(self, host: Host) -> list[str]:
        return self.shell()  # the rendered script, not only the argv commands

    def shell(self) -> list[str]:
        lines = ["umask 077"]
        argvs = self.commands()
        for argv in argvs:
            lines.append(shlex.join(argv))
            if argv[:2] == ["openssl", "genrsa"]:
                lines.append(_printf_line(self.selector, self.selector_path))
        return lines

    def current(self, host: Host) -> str | None:
        if not host.exists(self.directory):
            return None
        try:
            raw = host.read_bytes(self.selector_path, limit=256)
        except HostError:
            return f"{self.directory} exists (no readable selector)"
        return f"{self.directory} exists, selector {mk.plugin_selector(raw)!r}"

    def target_value(self) -> str | None:
        return f"{self.directory} with a new {self.bits}-bit key, selector {self.selector}"

    def execute(self, host: Host) -> str:
        if not host.exists(mk.KEYS_DIR):
            host.mkdir(mk.KEYS_DIR, mode=0o755)
        archived = ""
        if host.exists(self.directory):
            if not self.archive_existing:
                raise ActionError(
                    f"{self.directory} already exists; refusing to overwrite a key "
                    "(archive it first, or rotate with a staged key)"
                )
            target = free_archive_path(host, self.directory, self.stamp)
            host.rename(self.directory, target)
            archived = f"; the previous key was archived to {target}"
        host.mkdir(self.directory, mode=DIR_MODE, owner=OWNER, group=OWNER)
        pem = mk.SecretBytes(mk.generate_private_key_pem(self.bits))
        try:
            host.write_atomic(self.key_path, pem.reveal(), mode=mk.KEY_MODE, owner=OWNER, group=OWNER)
        finally:
            del pem
        host.write_atomic(self.selector_path, f"{self.selector}\n".encode(),
                          mode=SELECTOR_MODE, owner=OWNER, group=OWNER)
        return f"wrote {self.key_path} (mode 0400, {OWNER}:{OWNER}) and {self.selector_path}{archived}"

    def undo_actions(self, host: Host) -> list[Action] | None:
        aside = MovePath(self.directory, free_archive_path(host, self.directory, self.stamp),
                         self.step, self.domain)
        if not host.exists(self.directory):
            return [aside]
        if not self.archive_existing:
            return []  # execute will refuse; nothing to undo
        archived = free_archive_path(host, self.directory, self.stamp)
        # after execute the old folder sits at `archived`; the new one must be moved aside
        # under a different free name, then the old one put back.
        later = mk.archive_name(self.directory, self.stamp, frozenset({archived}))
        return [MovePath(self.directory, later, self.step, self.domain),
                MovePath(archived, self.directory, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        try:
            raw = host.read_bytes(self.selector_path, limit=256)
        except HostError:
            return False
        return mk.plugin_selector(raw) == self.selector and host.exists(self.key_path)


# ------------------------------------------------------------------------------- migrate
@dataclass(frozen=True)
class MigrateDkimKeys(Action):
    """The guide's "keys in the wrong location" fix: copy (cp -a) the folder to
    `dkim_keys/<domain>/`, give the key SME's file name `default`, fix owner and mode, and
    archive the old folder. Copying keeps the same key, so the published record stays valid."""

    domain_name: str
    source: str  # e.g. /etc/qpsmtpd/dkim/example.com
    stamp: str  # YYYYMMDD, names archives (`<dir>.OLD-backup-<stamp>`)
    private_name: str = mk.LINK_PRIVATE  # upstream qpsmtpd names the key `private`
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.domain_name(self.domain_name)
        validate_stamp(self.stamp)
        validate.sme_path(self.source)
        if self.private_name not in (mk.LINK_PRIVATE, mk.PRIVATE_FILE):
            raise validate.InvalidValue(f"unexpected key file name {self.private_name!r}")

    @property
    def destination(self) -> str:
        return mk.key_dir(self.domain_name)

    def summary(self) -> str:
        return f"Copy the DKIM key for {self.domain_name} from {self.source} to {self.destination}"

    def commands(self) -> list[list[str]]:
        dest = self.destination
        cmds = [["cp", "-a", self.source, dest]]
        if self.private_name != mk.PRIVATE_FILE:
            cmds.append(["mv", f"{dest}/{self.private_name}", f"{dest}/{mk.PRIVATE_FILE}"])
        cmds += [
            ["chown", "-R", f"{OWNER}:{OWNER}", dest],
            ["chmod", "400", f"{dest}/{mk.PRIVATE_FILE}"],
            ["mv", self.source, mk.archive_name(self.source, self.stamp)],
        ]
        return cmds

    def current(self, host: Host) -> str | None:
        return self.source if host.exists(self.source) else None

    def target_value(self) -> str | None:
        return self.destination

    def execute(self, host: Host) -> str:
        dest = self.destination
        if host.exists(dest):
            raise ActionError(f"{dest} already exists; not overwriting it")
        if not host.exists(mk.KEYS_DIR):
            host.mkdir(mk.KEYS_DIR, mode=0o755)
        # Copy into a root-only staging folder first, so the copy is never reachable by others
        # while its owner and mode are being fixed (the old folder may have been too open).
        staging = f"{mk.KEYS_DIR}/.{self.domain_name}.smewizard-migrate"
        if host.exists(staging):
            raise ActionError(f"{staging} exists (an interrupted migration?); move it aside first")
        host.mkdir(staging, mode=0o700)
        copy = f"{staging}/{self.domain_name}"
        host.copy_tree(self.source, copy)
        host.chmod(copy, DIR_MODE)
        if self.private_name != mk.PRIVATE_FILE and host.exists(f"{copy}/{self.private_name}"):
            host.rename(f"{copy}/{self.private_name}", f"{copy}/{mk.PRIVATE_FILE}")
        key = f"{copy}/{mk.PRIVATE_FILE}"
        if host.exists(key):
            host.chmod(key, mk.KEY_MODE)
        _chown_tree(host, copy)
        host.rename(copy, dest)
        host.remove(staging)  # empty now
        archive = free_archive_path(host, self.source, self.stamp)
        host.rename(self.source, archive)
        return f"copied {self.source} to {dest}; the old folder is kept as {archive}"

    def undo_actions(self, host: Host) -> list[Action] | None:
        archive = free_archive_path(host, self.source, self.stamp)
        aside = free_archive_path(host, self.destination, self.stamp)
        return [MovePath(self.destination, aside, self.step, self.domain),
                MovePath(archive, self.source, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return host.exists(f"{self.destination}/{mk.PRIVATE_FILE}") and not host.exists(self.source)


# ------------------------------------------------------------------------------- permissions
@dataclass(frozen=True)
class FixDkimKeyPermissions(Action):
    """`chown -R qpsmtpd:qpsmtpd DIR; chmod 400 DIR/default` (guide Part 2)."""

    name: str
    directory: str
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        validate.sme_path(self.directory)

    @property
    def key_path(self) -> str:
        return f"{self.directory}/{mk.PRIVATE_FILE}"

    def summary(self) -> str:
        return f"Give {self.directory} to {OWNER}:{OWNER} and make its key mode 0400"

    def commands(self) -> list[list[str]]:
        return [["chown", "-R", f"{OWNER}:{OWNER}", self.directory],
                ["chmod", "400", self.key_path]]

    def current(self, host: Host) -> str | None:
        st = host.stat(self.key_path)
        return f"{st.owner}:{st.group} {st.mode:04o}" if st else None

    def target_value(self) -> str | None:
        return f"{OWNER}:{OWNER} 0400"

    def execute(self, host: Host) -> str:
        if host.exists(self.key_path):
            host.chmod(self.key_path, mk.KEY_MODE)  # narrow first, then hand over
        _chown_tree(host, self.directory)
        return self.summary()

    def undo_actions(self, host: Host) -> list[Action] | None:
        undo: list[Action] = []
        for path in (self.directory, *(f"{self.directory}/{e}" for e in host.list_dir(self.directory))):
            st = host.stat(path)
            if st is None or st.is_symlink:
                continue
            undo.append(RestoreOwnerMode(path, st.owner, st.group, st.mode, self.step, self.domain))
        return undo

    def is_satisfied(self, host: Host) -> bool:
        return self.current(host) == self.target_value()


# ------------------------------------------------------------------------------- selector
@dataclass(frozen=True)
class WriteDkimSelector(Action):
    """Rewrite `dkim_keys/<name>/selector` with only the selector and one newline."""

    name: str
    selector: str
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        validate.dns_label(self.selector)

    @property
    def path(self) -> str:
        return f"{mk.key_dir(self.name)}/{mk.SELECTOR_FILE}"

    def summary(self) -> str:
        return f"Write selector {self.selector} to {self.path} (no CR, no spaces)"

    def commands(self) -> list[list[str]]:
        return [["printf", "%s\\n", self.selector]]

    def shell_for(self, host: Host) -> list[str]:
        return self.shell()  # the rendered script, not only the argv commands

    def shell(self) -> list[str]:
        return [_printf_line(self.selector, self.path),
                shlex.join(["chown", f"{OWNER}:{OWNER}", self.path])]

    def current(self, host: Host) -> str | None:
        try:
            return repr(host.read_bytes(self.path, limit=256).decode("utf-8", "replace"))
        except HostError:
            return None

    def target_value(self) -> str | None:
        return repr(self.selector + "\n")

    def execute(self, host: Host) -> str:
        host.write_atomic(self.path, f"{self.selector}\n".encode(), mode=SELECTOR_MODE,
                          owner=OWNER, group=OWNER)
        return self.summary()

    def undo_actions(self, host: Host) -> list[Action] | None:
        try:
            old = host.read_bytes(self.path, limit=512).decode("utf-8", "replace")
        except HostError:
            return []
        return [RestoreSelectorFile(self.path, old, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return self.current(host) == self.target_value()


# ------------------------------------------------------------------------------- rotation
@dataclass(frozen=True)
class ActivateStagedDkimKey(Action):
    """Rotation switch: archive `dkim_keys/<name>/` and move the staged `<name>.next/` into
    its place, so the selector file and key change together. Run only once the new record
    verifies; the old record stays published until the admin removes it."""

    name: str
    stamp: str  # YYYYMMDD, names archives (`<dir>.OLD-backup-<stamp>`)
    step: str = "dkim"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        validate_stamp(self.stamp)

    @property
    def directory(self) -> str:
        return mk.key_dir(self.name)

    @property
    def staged(self) -> str:
        return mk.staged_dir(self.name)

    def summary(self) -> str:
        return f"Switch {self.name} signing to the staged key in {self.staged}"

    def commands(self) -> list[list[str]]:
        return [["mv", self.directory, mk.archive_name(self.directory, self.stamp)],
                ["mv", self.staged, self.directory]]

    def current(self, host: Host) -> str | None:
        try:
            return mk.plugin_selector(host.read_bytes(f"{self.directory}/{mk.SELECTOR_FILE}", limit=256))
        except HostError:
            return None

    def target_value(self) -> str | None:
        return f"selector of {self.staged}"

    def execute(self, host: Host) -> str:
        if not host.exists(self.staged):
            raise ActionError(f"{self.staged} does not exist; generate the new key first")
        archive = free_archive_path(host, self.directory, self.stamp)
        if host.exists(self.directory):
            host.rename(self.directory, archive)
        host.rename(self.staged, self.directory)
        return f"{self.directory} now holds the new key; the old one is kept as {archive}"

    def undo_actions(self, host: Host) -> list[Action] | None:
        archive = free_archive_path(host, self.directory, self.stamp)
        return [MovePath(self.directory, self.staged, self.step, self.domain),
                MovePath(archive, self.directory, self.step, self.domain)]


# ------------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class VerifyDkimLinks(Action):
    """After `signal-event email-update`: the template links for the domain must now lead to
    the key folder it signs with (guide Part 2: `ls -la /var/service/qpsmtpd/config/dkim/`).
    Changes nothing; fails the apply when the event did not build them."""

    domain_name: str
    name: str  # key folder the links must lead to: the domain, or `default`
    step: str = "dkim"
    domain: str | None = None
    changes_server: ClassVar[bool] = False

    def __post_init__(self) -> None:
        validate.domain_name(self.domain_name)
        validate_key_name(self.name)

    @property
    def expected(self) -> dict[str, str]:
        source = mk.key_dir(self.name)
        return {mk.LINK_SELECTOR: f"{source}/{mk.SELECTOR_FILE}",
                mk.LINK_PRIVATE: f"{source}/{mk.PRIVATE_FILE}"}

    def summary(self) -> str:
        return f"Check the qpsmtpd links for {self.domain_name} lead to {mk.key_dir(self.name)}/"

    def commands(self) -> list[list[str]]:
        return [["ls", "-la", mk.link_dir(self.domain_name) + "/"]]

    def current(self, host: Host) -> str | None:
        return "; ".join(f"{link} → {target or 'missing'}" for link, target in self._found(host).items())

    def target_value(self) -> str | None:
        return "; ".join(f"{link} → {target}" for link, target in self.expected.items())

    def _found(self, host: Host) -> dict[str, str | None]:
        base = mk.link_dir(self.domain_name)
        return {link: host.resolve(f"{base}/{link}") for link in self.expected}

    def execute(self, host: Host) -> str:
        base = mk.link_dir(self.domain_name)
        st = host.stat(base)
        if st is not None and st.is_symlink:
            raise ActionError(f"{base} is a link; qpsmtpd would sign with the wrong d= domain")
        found = self._found(host)
        wrong = [f"{link} → {found[link] or 'missing'}" for link, want in self.expected.items()
                 if found[link] != want]
        if wrong:
            raise ActionError(
                f"after email-update the links in {base}/ are not right ({', '.join(wrong)}); "
                "check that DKIMSigning is enabled and look for errors in /var/log/messages"
            )
        return f"{base}/ leads to {mk.key_dir(self.name)}/"

    def undo_actions(self, host: Host) -> list[Action] | None:
        return []

    def is_satisfied(self, host: Host) -> bool:
        return False  # a check: always run it again
