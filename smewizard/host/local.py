"""LocalHost: the server is this machine, optionally under a root prefix.

With `root=None` SME paths are used as they are (the wizard runs on the SME box). With a root
directory, "/home/e-smith/db/configuration" means "<root>/home/e-smith/db/configuration": this
is how the simulated SME server, the demo and the tests run, through the same code.
Commands are found on a PATH that starts with the server's SME tool directories
(`/sbin/e-smith`, mapped into the root), so `db` and `signal-event` resolve to SME's programs
on a real box and to the simulated ones under a root.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat as statmod
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from smewizard.host.base import (
    CommandResult,
    FileStat,
    HostError,
    NotFound,
    PermissionDenied,
)
from smewizard.host.paths import NameTable, RootMap, resolve_links

SME_TOOL_DIRS = ("/sbin/e-smith", "/usr/local/bin", "/usr/bin", "/bin")


class LocalHost:
    def __init__(self, root: str | Path | None = None, *, tool_dirs: Sequence[str] = SME_TOOL_DIRS):
        self.root = Path(root).resolve() if root is not None else None
        self._map = RootMap(str(self.root) if self.root else None)
        self._tool_dirs = tuple(tool_dirs)
        self._names: dict[str, tuple[float, NameTable]] = {}

    @property
    def description(self) -> str:
        return f"simulated SME root {self.root}" if self.root else "this machine"

    # ------------------------------------------------------------------ paths
    def real(self, path: str) -> str:
        """The local filesystem path of an SME path."""
        return self._map.real(path)

    def _unmap(self, real_path: str) -> str:
        return self._map.unmap(real_path)

    # ------------------------------------------------------------------ commands
    def run(
        self, argv: Sequence[str], *, timeout: float = 120.0, input_text: str | None = None
    ) -> CommandResult:
        args = [str(a) for a in argv]
        exe, env = self._prepare(args)
        try:
            proc = subprocess.run(  # noqa: S603 - argv list, never a shell
                [exe, *args[1:]],
                input=input_text,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return CommandResult(
                tuple(args), -1, _text(exc.stdout), _text(exc.stderr), timed_out=True
            )
        except PermissionError as exc:
            raise PermissionDenied(f"not allowed to run {args[0]}: {exc.strerror}") from None
        return CommandResult(tuple(args), proc.returncode, proc.stdout, proc.stderr)

    def run_stream(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], None] | None = None,
        *,
        timeout: float = 600.0,
    ) -> CommandResult:
        """Like run(), but hands each output line (stdout and stderr merged, in order) to
        `on_line` as it arrives, for long commands such as signal-event. Kills the command
        when `timeout` passes."""
        args = [str(a) for a in argv]
        exe, env = self._prepare(args)
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv list, never a shell
                [exe, *args[1:]],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
            )
        except PermissionError as exc:
            raise PermissionDenied(f"not allowed to run {args[0]}: {exc.strerror}") from None
        lines, timed_out = _pump_lines(proc, on_line, timeout)
        return CommandResult(tuple(args), proc.returncode if not timed_out else -1, "".join(lines), "", timed_out)

    def _prepare(self, args: list[str]) -> tuple[str, dict[str, str]]:
        if not args:
            raise HostError("empty command")
        if any("\x00" in a for a in args):
            raise HostError("command argument contains a NUL byte")
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(
            [self.real(d) for d in self._tool_dirs] + [env.get("PATH", "/usr/bin:/bin")]
        )
        env.setdefault("LC_ALL", "C.UTF-8")
        exe = shutil.which(args[0], path=env["PATH"])
        if exe is None:
            raise NotFound(f"command {args[0]!r} not found on {self.description}")
        return exe, env

    def append_bytes(self, path: str, data: bytes, *, mode: int = 0o640) -> None:
        """Append to a file opened with O_APPEND (created with `mode`), then fsync: each call
        lands whole at the end even with concurrent writers, and survives a crash."""
        real = self.real(path)
        with _errors(path):
            old_umask = os.umask(0o077)
            try:
                fd = os.open(real, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, mode)
            finally:
                os.umask(old_umask)
            try:
                if os.fstat(fd).st_size == 0:
                    os.fchmod(fd, mode)  # created now under umask 077; give it its real mode
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)

    # ------------------------------------------------------------------ reading
    def read_bytes(self, path: str, *, limit: int | None = None) -> bytes:
        with _errors(path):
            with open(self.real(path), "rb") as fh:
                return fh.read() if limit is None else fh.read(limit)

    def read_text(self, path: str, *, limit: int | None = None) -> str:
        return self.read_bytes(path, limit=limit).decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.real(path))

    def list_dir(self, path: str) -> list[str]:
        with _errors(path):
            return sorted(os.listdir(self.real(path)))

    def stat(self, path: str) -> FileStat | None:
        real = self.real(path)
        try:
            st = os.lstat(real)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        except PermissionError as exc:
            raise PermissionDenied(f"cannot inspect {path}: {exc.strerror}") from None
        is_link = statmod.S_ISLNK(st.st_mode)
        target = self._unmap(os.readlink(real)) if is_link else None
        return FileStat(
            path=path,
            mode=statmod.S_IMODE(st.st_mode),
            uid=st.st_uid,
            gid=st.st_gid,
            owner=self.user_of(st.st_uid),
            group=self.group_of(st.st_gid),
            size=st.st_size,
            mtime=st.st_mtime,
            is_dir=statmod.S_ISDIR(st.st_mode),
            is_file=statmod.S_ISREG(st.st_mode),
            is_symlink=is_link,
            link_target=target,
        )

    def resolve(self, path: str) -> str | None:
        """Follow links in SME path space (a link's absolute target is an SME path)."""
        return resolve_links(self.stat, path)

    # ------------------------------------------------------------------ users
    def _table(self, kind: str) -> NameTable:
        real = self.real("/etc/passwd" if kind == "passwd" else "/etc/group")
        try:
            mtime = os.stat(real).st_mtime
        except OSError:
            return NameTable()
        cached = self._names.get(kind)
        if cached and cached[0] == mtime:
            return cached[1]
        with open(real, encoding="utf-8", errors="replace") as fh:
            table = NameTable(fh.read())
        self._names[kind] = (mtime, table)
        return table

    def user_of(self, uid: int) -> str:
        return self._table("passwd").name(uid)

    def group_of(self, gid: int) -> str:
        return self._table("group").name(gid)

    def uid_of(self, name: str) -> int:
        uid = self._table("passwd").by_name.get(name)
        if uid is None:
            raise NotFound(f"no user {name!r} on {self.description}")
        return uid

    def gid_of(self, name: str) -> int:
        gid = self._table("group").by_name.get(name)
        if gid is None:
            raise NotFound(f"no group {name!r} on {self.description}")
        return gid

    # ------------------------------------------------------------------ writing
    def write_atomic(
        self,
        path: str,
        data: bytes,
        *,
        mode: int,
        owner: str | None = None,
        group: str | None = None,
    ) -> None:
        """Write via a temp file created with `mode` (never wider, even briefly), chowned
        before any byte is written, fsynced, then renamed over `path`."""
        real = self.real(path)
        uid = self.uid_of(owner) if owner else -1
        gid = self.gid_of(group) if group else -1
        with _errors(path):
            write_file_atomically(real, data, mode, uid, gid)

    def mkdir(
        self, path: str, *, mode: int, owner: str | None = None, group: str | None = None
    ) -> None:
        real = self.real(path)
        with _errors(path):
            old_umask = os.umask(0o077)
            try:
                os.mkdir(real, mode & 0o700)
            finally:
                os.umask(old_umask)
            if owner or group:
                os.chown(real, self.uid_of(owner) if owner else -1, self.gid_of(group) if group else -1)
            os.chmod(real, mode)
            _fsync_dir(os.path.dirname(real))

    def chown(self, path: str, owner: str, group: str | None = None) -> None:
        with _errors(path):
            os.chown(
                self.real(path),
                self.uid_of(owner),
                self.gid_of(group) if group else -1,
                follow_symlinks=False,
            )

    def chmod(self, path: str, mode: int) -> None:
        with _errors(path):
            os.chmod(self.real(path), mode)

    def rename(self, src: str, dst: str) -> None:
        with _errors(src):
            if os.path.lexists(self.real(dst)):
                raise HostError(f"{dst} already exists; not overwriting it")
            os.rename(self.real(src), self.real(dst))
            _fsync_dir(os.path.dirname(self.real(dst)))

    def copy_tree(self, src: str, dst: str) -> None:
        with _errors(src):
            if os.path.lexists(self.real(dst)):
                raise HostError(f"{dst} already exists; not overwriting it")
            shutil.copytree(self.real(src), self.real(dst), symlinks=True, copy_function=_copy_keep_owner)
            _copy_owner(self.real(src), self.real(dst))

    def symlink(self, target: str, path: str) -> None:
        with _errors(path):
            os.symlink(self.real(target) if target.startswith("/") else target, self.real(path))

    def remove(self, path: str) -> None:
        real = self.real(path)
        with _errors(path):
            if os.path.isdir(real) and not os.path.islink(real):
                os.rmdir(real)
            else:
                os.unlink(real)

    def tcp_endpoint(self, host: str, port: int) -> tuple[str, int]:
        """Where to connect to reach `host:port` as the server sees it: here, directly."""
        return host, port

    def is_privileged(self) -> bool:
        if os.geteuid() == 0:
            return True
        if self.root is None:
            return False
        return os.access(self.real("/home/e-smith/db"), os.W_OK)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def write_file_atomically(real: str, data: bytes, mode: int, uid: int = -1, gid: int = -1) -> None:
    """Temp file in the same directory, created no wider than 0600 (whatever the umask),
    chowned before any byte is written, given `mode`, fsynced, renamed over `real`."""
    directory = os.path.dirname(real)
    tmp = os.path.join(directory, f".{os.path.basename(real)}.smewizard-{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode & 0o600)
    try:
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, real)
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_owner(src: str, dst: str) -> None:
    st = os.lstat(src)
    try:
        os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    except PermissionError:
        pass


def _copy_keep_owner(src: str, dst: str) -> str:
    shutil.copy2(src, dst, follow_symlinks=False)
    _copy_owner(src, dst)
    return dst


class _errors:
    """Turn OS errors on `path` into typed host errors with the SME path in the message."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or not isinstance(exc, OSError):
            return False
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError) or exc.errno in (errno.EPERM, errno.EACCES, errno.EROFS):
            raise PermissionDenied(f"{self.path}: {reason} (needs root)") from None
        if isinstance(exc, FileNotFoundError):
            raise NotFound(f"{self.path}: no such file or directory") from None
        raise HostError(f"{self.path}: {reason}") from None


def _pump_lines(
    proc: subprocess.Popen, on_line: Callable[[str], None] | None, timeout: float
) -> tuple[list[str], bool]:
    """Read the process's output line by line until it exits or `timeout` passes."""
    import selectors
    import time

    deadline = time.monotonic() + timeout
    lines: list[str] = []
    pending = b""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                proc.stdout.close()
                if pending:
                    lines.append(pending.decode("utf-8", "replace"))
                return lines, True
            if not sel.select(min(left, 1.0)):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                line = raw.decode("utf-8", "replace")
                lines.append(line + "\n")
                if on_line:
                    on_line(line)
    if pending:
        line = pending.decode("utf-8", "replace")
        lines.append(line)
        if on_line:
            on_line(line)
    proc.stdout.close()
    try:
        proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return lines, True
    return lines, False
