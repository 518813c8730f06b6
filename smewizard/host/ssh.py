"""SshHost: the server is reached over OpenSSH.

One `ssh` session per SshHost (the admin's own OpenSSH: their config, agent and known_hosts),
multiplexed through a ControlMaster so any further session reuses the connection. On the server
it starts `remote_agent.py` on the server's own Python; every Host operation is one JSON request
over that session, and commands stay argv lists end to end (the agent runs them without a
shell). Reads are served from a snapshot of the directories an audit looks at, fetched in one
round trip and dropped after any change or a few seconds, so a full audit costs few round trips.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from smewizard.host.base import (
    CommandResult,
    FileStat,
    HostError,
    NotFound,
    PermissionDenied,
)
from smewizard.host.local import SME_TOOL_DIRS
from smewizard.host.paths import NameTable, RootMap, resolve_links
from smewizard.validate import InvalidValue, domain_name, ip_address

AGENT_SOURCE = Path(__file__).with_name("remote_agent.py")
_BOOTSTRAP = (
    "import sys;n=int(sys.stdin.readline());src=sys.stdin.read(n);"
    "g={'__name__':'smewizard_agent'};exec(compile(src,'smewizard-agent','exec'),g);"
    "g['serve'](sys.stdin,sys.stdout)"
)
# The server's python3 (3.6 on SME v10), else its python (2.7): the agent runs on both.
_REMOTE_COMMAND = (
    'PY=$(command -v python3 || command -v python) || { echo "smewizard: no python on the server" >&2; exit 127; }; '
    'exec "$PY" -c ' + shlex.quote(_BOOTSTRAP)
)
# What an audit reads, fetched in one round trip: (SME path, depth). Maildir message folders
# (cur/new/tmp) are listed but never descended into.
SNAPSHOT_ROOTS: tuple[tuple[str, int], ...] = (
    ("/home/e-smith/db", 1),
    ("/home/e-smith/dkim_keys", 3),
    ("/var/service/qpsmtpd/config", 3),
    ("/etc/qpsmtpd", 4),
    ("/etc/passwd", 0),
    ("/etc/group", 0),
    ("/var/qmail/control", 1),
    ("/etc/mail/spamassassin", 1),
    ("/home/e-smith/files/users", 4),
    ("/var/log/smewizard", 2),
)
SNAPSHOT_TTL = 5.0
SNAPSHOT_MAX_FILE = 256 * 1024


class SshError(HostError):
    """Connecting to or talking with the server over SSH failed."""


@dataclass(frozen=True)
class SshTarget:
    user: str | None
    host: str
    port: int | None

    @classmethod
    def parse(cls, text: str) -> SshTarget:
        """"[user@]host[:port]" with host a DNS name or an IP address ("[v6]:port")."""
        user, _, hostport = text.rpartition("@")
        host, port = hostport, None
        if hostport.startswith("["):
            host, _, rest = hostport[1:].partition("]")
            if rest:
                port = _port(rest.lstrip(":"), text)
        elif hostport.count(":") == 1:
            host, _, p = hostport.partition(":")
            port = _port(p, text)
        if user and not re.fullmatch(r"[a-z_][a-z0-9_.-]{0,31}", user):
            raise InvalidValue(f"--host {text!r}: {user!r} is not a valid user name")
        try:
            host = ip_address(host)
        except InvalidValue:
            if host != "localhost":
                try:
                    host = domain_name(host)
                except InvalidValue:
                    raise InvalidValue(f"--host {text!r}: {host!r} is not a host name or IP") from None
        return cls(user or None, host, port)

    def __str__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return who + host + (f":{self.port}" if self.port else "")


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidValue(f"--host {whole!r}: port must be 1-65535")
    return int(text)


def classify_ssh_failure(stderr: str, target: str) -> SshError:
    """A clear message for the usual ways an SSH connection fails."""
    text = stderr.strip()
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in text:
        return SshError(
            f"{target}: the server's host key has CHANGED since you last connected. This may be "
            "a reinstall or an attack. Check the key with the server's console before removing "
            "the old line from known_hosts (ssh-keygen -R HOST)."
        )
    if "Host key verification failed" in text or "No ED25519 host key is known" in text or (
        "host key" in text.lower() and "known" in text.lower()
    ):
        return SshError(
            f"{target}: the server's host key is not known. Connect once with plain "
            f"`ssh {target}` to check and accept it, then run smewizard again."
        )
    if "Permission denied" in text:
        return SshError(
            f"{target}: authentication failed (key not accepted). smewizard uses your ssh "
            "agent and ~/.ssh/config; check `ssh " + target + " true` works without a password prompt."
        )
    if "Connection refused" in text or "timed out" in text or "Could not resolve" in text or "No route" in text:
        return SshError(f"{target}: cannot connect: {text.splitlines()[-1] if text else 'no answer'}")
    if "no python on the server" in text:
        return SshError(f"{target}: the server has no python3 or python to run smewizard's helper")
    last = text.splitlines()[-1] if text else "ssh exited"
    return SshError(f"{target}: SSH failed: {last}")


class SshHost:
    def __init__(
        self,
        target: str | SshTarget,
        *,
        root: str | None = None,
        ssh_config: str | None = None,
        connect_timeout: int = 10,
        tool_dirs: Sequence[str] = SME_TOOL_DIRS,
    ):
        self.target = target if isinstance(target, SshTarget) else SshTarget.parse(target)
        self._map = RootMap(root)
        self._ssh_config = ssh_config
        self._connect_timeout = connect_timeout
        self._tool_dirs = tuple(tool_dirs)
        self._proc: subprocess.Popen | None = None
        self._lock = threading.RLock()
        self._control_dir = tempfile.mkdtemp(prefix="smewizard-ssh-")
        self._snapshot: _Snapshot | None = None
        self._tables: dict[str, NameTable] = {}
        self._forwards: dict[tuple[str, int], tuple[str, int]] = {}
        self.round_trips = 0

    @property
    def description(self) -> str:
        where = f" (root {self._map.root})" if self._map.root else ""
        return f"ssh {self.target}{where}"

    # ------------------------------------------------------------------ session
    def ssh_argv(self) -> list[str]:
        argv = ["ssh", "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={self._connect_timeout}",
                "-o", "ControlMaster=auto", "-o", f"ControlPath={self._control_dir}/%C",
                "-o", "ControlPersist=60", "-o", "ServerAliveInterval=15"]
        if self._ssh_config:
            argv += ["-F", self._ssh_config]
        if self.target.port:
            argv += ["-p", str(self.target.port)]
        if self.target.user:
            argv += ["-l", self.target.user]
        return argv + ["--", self.target.host, _REMOTE_COMMAND]

    def connect(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            source = AGENT_SOURCE.read_text(encoding="ascii")
            self._proc = subprocess.Popen(  # noqa: S603 - argv list
                self.ssh_argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, bufsize=1,
            )
            try:
                self._proc.stdin.write(f"{len(source)}\n{source}")
                self._proc.stdin.flush()
                ready = self._proc.stdout.readline()
            except (BrokenPipeError, OSError):
                ready = ""
            if not ready.startswith("{"):
                raise self._failure()
            self.round_trips += 1

    def _failure(self) -> SshError:
        proc = self._proc
        self._proc = None
        if proc is None:
            return SshError(f"{self.target}: not connected")
        try:
            proc.kill()
            _, err = proc.communicate(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            err = ""
        return classify_ssh_failure(err or "", str(self.target))

    def tcp_endpoint(self, host: str, port: int) -> tuple[str, int]:
        """A local address that reaches `host:port` as seen from the server (e.g. its own
        SMTP on 127.0.0.1:25): an OpenSSH local forward through the session's ControlMaster."""
        key = (host, port)
        if key not in self._forwards:
            self.connect()
            local = _free_local_port()
            spec = f"127.0.0.1:{local}:{ip_address(host)}:{int(port)}"
            result = subprocess.run(  # noqa: S603 - argv list
                [*self._control_argv(), "-O", "forward", "-L", spec, "--", self.target.host],
                capture_output=True, text=True, timeout=30, check=False,
            )
            if result.returncode != 0:
                raise SshError(f"{self.target}: cannot forward to {host}:{port} on the server: "
                               f"{result.stderr.strip() or 'ssh -O forward failed'}")
            self._forwards[key] = ("127.0.0.1", local)
        return self._forwards[key]

    def _control_argv(self) -> list[str]:
        argv = ["ssh", "-o", f"ControlPath={self._control_dir}/%C"]
        if self._ssh_config:
            argv += ["-F", self._ssh_config]
        if self.target.port:
            argv += ["-p", str(self.target.port)]
        if self.target.user:
            argv += ["-l", self.target.user]
        return argv

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                try:
                    self._proc.stdin.close()
                    self._proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self._proc.kill()
                self._proc = None
            self._forwards.clear()
            subprocess.run(  # noqa: S603 - stop the ControlMaster we started
                [*self._control_argv(), "-O", "exit", "--", self.target.host],
                capture_output=True, timeout=10, check=False,
            )

    def __enter__(self) -> SshHost:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, op: str, on_line: Callable[[str], None] | None = None, **request):
        with self._lock:
            self.connect()
            assert self._proc is not None and self._proc.stdin and self._proc.stdout
            request["op"] = op
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                reply = self._read_reply()
                while reply is not None and "ok" not in reply:  # streamed output lines
                    if on_line:
                        on_line(reply.get("line", ""))
                    reply = self._read_reply()
            except (BrokenPipeError, OSError):
                reply = None
            self.round_trips += 1
            if reply is None:
                error = self._failure()
                raise SshError(f"connection to {self.target} lost during {op}: {error}")
        if reply.get("ok"):
            return reply.get("result")
        kind = {"NotFound": NotFound, "PermissionDenied": PermissionDenied}.get(reply.get("kind"), HostError)
        message = self._map_message(reply.get("error", "unknown error"))
        if kind is PermissionDenied:
            message += " (needs root)"
        raise kind(message)

    def _read_reply(self) -> dict | None:
        assert self._proc is not None and self._proc.stdout
        line = self._proc.stdout.readline()
        return json.loads(line) if line else None

    def _map_message(self, message: str) -> str:
        root = self._map.root
        return message.replace(root, "") if root else message

    # ------------------------------------------------------------------ commands
    def run(self, argv: Sequence[str], *, timeout: float = 120.0, input_text: str | None = None) -> CommandResult:
        args = _checked_argv(argv)
        self._invalidate()
        out = self._call("run", argv=args, timeout=timeout, input=input_text, path_env=self._path_env())
        self._invalidate()
        return CommandResult(tuple(args), out["returncode"], out["stdout"], out["stderr"], out["timed_out"])

    def run_stream(self, argv: Sequence[str], on_line: Callable[[str], None] | None = None, *,
                   timeout: float = 600.0) -> CommandResult:
        """Like run(), stdout and stderr merged, each line handed to `on_line` as it arrives."""
        args = _checked_argv(argv)
        self._invalidate()
        try:
            out = self._call("run_stream", on_line=on_line, argv=args, timeout=timeout,
                             path_env=self._path_env())
        finally:
            self._invalidate()
        return CommandResult(tuple(args), out["returncode"], out["stdout"], out["stderr"], out["timed_out"])

    def _path_env(self) -> str:
        dirs = [self._map.real(d) for d in self._tool_dirs] + [*self._tool_dirs, "/usr/sbin", "/sbin"]
        return ":".join(dict.fromkeys(dirs))

    # ------------------------------------------------------------------ snapshot
    def _invalidate(self) -> None:
        self._snapshot = None

    def _current_snapshot(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None or time.monotonic() - snap.taken > SNAPSHOT_TTL:
            roots = [(self._map.real(p), depth) for p, depth in SNAPSHOT_ROOTS]
            # the directories above each root too, so following links from "/" stays local
            above = {a for root, _ in roots for a in _ancestors(root)} - {r for r, _ in roots}
            roots += [(a, 0) for a in sorted(above)]
            data = self._call("snapshot", roots=roots, max_size=SNAPSHOT_MAX_FILE)
            snap = _Snapshot(roots, data)
            self._snapshot = snap
        return snap

    # ------------------------------------------------------------------ reading
    def read_bytes(self, path: str, *, limit: int | None = None) -> bytes:
        real = self._map.real(path)
        cached = self._current_snapshot().content(real)
        if cached is not _UNKNOWN:
            if cached is None:
                raise NotFound(f"{path}: no such file or directory")
            return cached if limit is None else cached[:limit]
        return base64.b64decode(self._call("read", path=real, limit=limit))

    def read_text(self, path: str, *, limit: int | None = None) -> str:
        return self.read_bytes(path, limit=limit).decode("utf-8", errors="replace")

    def _raw_stat(self, real: str) -> dict | None:
        cached = self._current_snapshot().stat(real)
        if cached is not _UNKNOWN:
            return cached
        return self._call("lstat", path=real)

    def stat(self, path: str) -> FileStat | None:
        info = self._raw_stat(self._map.real(path))
        if info is None:
            return None
        link = info["link"]
        return FileStat(
            path=path, mode=info["mode"], uid=info["uid"], gid=info["gid"],
            owner=self._table("/etc/passwd").name(info["uid"]),
            group=self._table("/etc/group").name(info["gid"]),
            size=info["size"], mtime=info["mtime"], is_dir=info["is_dir"], is_file=info["is_file"],
            is_symlink=info["is_symlink"], link_target=self._map.unmap(link) if link else None,
        )

    def resolve(self, path: str) -> str | None:
        return resolve_links(self.stat, path)

    def exists(self, path: str) -> bool:
        return self._raw_stat(self._map.real(path)) is not None

    def list_dir(self, path: str) -> list[str]:
        real = self._map.real(path)
        cached = self._current_snapshot().listing(real)
        if cached is not _UNKNOWN:
            if cached is None:
                raise NotFound(f"{path}: no such file or directory")
            return list(cached)
        return self._call("list", path=real)

    def _table(self, path: str) -> NameTable:
        if path not in self._tables:
            try:
                self._tables[path] = NameTable(self.read_text(path))
            except HostError:
                self._tables[path] = NameTable()
        return self._tables[path]

    def _id(self, table: str, name: str | None) -> int:
        if not name:
            return -1
        number = self._table(table).by_name.get(name)
        if number is None:
            raise NotFound(f"no {'user' if 'passwd' in table else 'group'} {name!r} on {self.target}")
        return number

    # ------------------------------------------------------------------ writing
    def _change(self, op: str, **request):
        """A file operation: afterwards, what the snapshot knew about the paths it touched (and
        their directories) is forgotten, so those are asked live; the rest stays valid."""
        touched = [request[k] for k in ("path", "src", "dst") if k in request]
        try:
            return self._call(op, **request)
        finally:
            if self._snapshot is not None:
                self._snapshot.forget(touched)

    def write_atomic(self, path: str, data: bytes, *, mode: int, owner: str | None = None,
                     group: str | None = None) -> None:
        self._change("write_atomic", path=self._map.real(path), data=base64.b64encode(data).decode(),
                     mode=mode, uid=self._id("/etc/passwd", owner), gid=self._id("/etc/group", group))

    def append_bytes(self, path: str, data: bytes, *, mode: int = 0o640) -> None:
        self._change("append", path=self._map.real(path), data=base64.b64encode(data).decode(), mode=mode)

    def mkdir(self, path: str, *, mode: int, owner: str | None = None, group: str | None = None) -> None:
        self._change("mkdir", path=self._map.real(path), mode=mode,
                     uid=self._id("/etc/passwd", owner), gid=self._id("/etc/group", group))

    def chown(self, path: str, owner: str, group: str | None = None) -> None:
        self._change("chown", path=self._map.real(path), uid=self._id("/etc/passwd", owner),
                     gid=self._id("/etc/group", group))

    def chmod(self, path: str, mode: int) -> None:
        self._change("chmod", path=self._map.real(path), mode=mode)

    def rename(self, src: str, dst: str) -> None:
        self._change("rename", src=self._map.real(src), dst=self._map.real(dst))

    def copy_tree(self, src: str, dst: str) -> None:
        self._change("copy_tree", src=self._map.real(src), dst=self._map.real(dst))

    def symlink(self, target: str, path: str) -> None:
        real_target = self._map.real(target) if target.startswith("/") else target
        self._change("symlink", target=real_target, path=self._map.real(path))

    def remove(self, path: str) -> None:
        self._change("remove", path=self._map.real(path))

    def is_privileged(self) -> bool:
        if self._call("geteuid") == 0:
            return True
        return bool(self._map.root) and bool(self._call("access", path=self._map.real("/home/e-smith/db")))


def _checked_argv(argv: Sequence[str]) -> list[str]:
    args = [str(a) for a in argv]
    if not args or any("\x00" in a for a in args):
        raise HostError("empty command or NUL byte in an argument")
    return args


def _free_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


_UNKNOWN = object()
_MESSAGE_DIRS = ("cur", "new", "tmp")


class _Snapshot:
    """What one `snapshot` request returned, answering for paths under its roots."""

    def __init__(self, roots: list[tuple[str, int]], data: dict):
        self.taken = time.monotonic()
        self.roots = roots
        self.stats: dict[str, dict | None] = data["stats"]
        self.listings: dict[str, list[str]] = data["listings"]
        self.contents = {p: base64.b64decode(v) for p, v in data["contents"].items()}

    def _covered(self, real: str) -> bool:
        """True when the snapshot saw everything at `real`: under a root, within its depth,
        and not inside a Maildir message folder."""
        for root, depth in self.roots:
            if real == root:
                return True
            if real.startswith(root + "/"):
                parts = real[len(root) + 1:].split("/")
                return len(parts) <= depth and not any(p in _MESSAGE_DIRS for p in parts[:-1])
        return False

    def stat(self, real: str):
        if real in self.stats:
            return self.stats[real]
        if not self._covered(real):
            return _UNKNOWN
        # Missing when the nearest ancestor the snapshot saw is missing, or was listed
        # without the next name on the way down.
        path = real
        while "/" in path.strip("/"):
            parent, name = path.rsplit("/", 1)
            if parent in self.listings:
                return None if name not in self.listings[parent] else _UNKNOWN
            if parent in self.stats:
                return None if self.stats[parent] is None or not self.stats[parent]["is_dir"] else _UNKNOWN
            path = parent
        return _UNKNOWN

    def forget(self, reals: list[str]) -> None:
        for real in reals:
            parent = real.rsplit("/", 1)[0]
            for table in (self.stats, self.listings, self.contents):
                for key in [k for k in table if k == real or k.startswith(real + "/") or k == parent]:
                    del table[key]

    def listing(self, real: str):
        if real in self.listings:
            return self.listings[real]
        return None if self.stat(real) is None else _UNKNOWN

    def content(self, real: str):
        if real in self.contents:
            return self.contents[real]
        info = self.stat(real)
        if info is None:
            return None
        return _UNKNOWN
