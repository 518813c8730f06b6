# -*- coding: utf-8 -*-
"""The helper SshHost starts on the server: one process per session, speaking JSON lines on
stdin/stdout. It runs commands as argv lists (no shell on the server either) and does the file
operations of the Host interface on real server paths (the client maps SME paths).

It is sent as source over the SSH channel and must run on the server's own Python: SME v10 is
CentOS 7, whose python3 is 3.6 and whose python is 2.7. Keep it compatible with both: no
f-strings, no annotations, no pathlib, bytes travel as base64.
"""
import base64
import errno
import json
import os
import shutil
import stat as statmod
import subprocess
import sys
import threading

PY2 = sys.version_info[0] == 2


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text.encode("ascii"))


class OpError(Exception):
    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


def oserror(exc, path):
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EPERM, errno.EACCES, errno.EROFS):
        return OpError("PermissionDenied", "%s: %s" % (path, reason))
    if exc.errno == errno.ENOENT:
        return OpError("NotFound", "%s: no such file or directory" % path)
    return OpError("HostError", "%s: %s" % (path, reason))


def lstat_info(path):
    try:
        st = os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise oserror(exc, path)
    link = None
    if statmod.S_ISLNK(st.st_mode):
        link = os.readlink(path)
    return {
        "mode": statmod.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "size": st.st_size,
        "mtime": st.st_mtime,
        "is_dir": statmod.S_ISDIR(st.st_mode),
        "is_file": statmod.S_ISREG(st.st_mode),
        "is_symlink": link is not None,
        "link": link,
    }


class Command(object):
    """One command started as argv (never through a shell) with a kill timer."""

    def __init__(self, req, default_timeout, merge_output):
        argv = req["argv"]
        env = dict(os.environ)
        env["PATH"] = req.get("path_env") or env.get("PATH", "/usr/bin:/bin")
        env.setdefault("LC_ALL", "C")
        try:
            self.proc = subprocess.Popen(  # noqa: S603
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
                env=env, close_fds=True,
            )
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise OpError("NotFound", "command %r not found on the server" % argv[0])
            raise oserror(exc, argv[0])
        self.timed_out = False
        self.timer = threading.Timer(float(req.get("timeout", default_timeout)), self.kill)
        self.timer.start()

    def kill(self):
        self.timed_out = True
        try:
            self.proc.kill()
        except OSError:
            pass

    def result(self, stdout, stderr):
        self.timer.cancel()
        return {
            "returncode": -1 if self.timed_out else self.proc.returncode,
            "stdout": stdout,
            "stderr": stderr,
            "timed_out": self.timed_out,
        }


def op_run(req):
    command = Command(req, 120, merge_output=False)
    data = req.get("input")
    try:
        out, err = command.proc.communicate(data.encode("utf-8") if data is not None else None)
    finally:
        command.timer.cancel()
    return command.result(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def op_run_stream(req, emit):
    """Like op_run, stdout and stderr merged, each line sent back as it comes."""
    command = Command(req, 600, merge_output=True)
    command.proc.stdin.close()
    lines = []
    try:
        for raw in iter(command.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            emit(line.rstrip("\n"))
        command.proc.wait()
    finally:
        command.timer.cancel()
    return command.result("".join(lines), "")


def op_read(req):
    path = req["path"]
    try:
        with open(path, "rb") as fh:
            limit = req.get("limit")
            return b64(fh.read() if limit is None else fh.read(limit))
    except (IOError, OSError) as exc:
        raise oserror(exc, path)


def op_lstat(req):
    return lstat_info(req["path"])


def op_list(req):
    try:
        return sorted(os.listdir(req["path"]))
    except OSError as exc:
        raise oserror(exc, req["path"])


def op_write_atomic(req):
    path = req["path"]
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, ".%s.smewizard-%d.tmp" % (os.path.basename(path), os.getpid()))
    mode = req["mode"]
    old = os.umask(0o077)
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         mode & 0o600)
        finally:
            os.umask(old)
        try:
            if req.get("uid", -1) != -1 or req.get("gid", -1) != -1:
                os.fchown(fd, req.get("uid", -1), req.get("gid", -1))
            os.fchmod(fd, mode)
            os.write(fd, unb64(req["data"]))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.rename(tmp, path)
        fsync_dir(directory)
    except OSError as exc:
        raise oserror(exc, path)


def fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    os.close(fd)


def op_append(req):
    path = req["path"]
    old = os.umask(0o077)
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                         req.get("mode", 0o640))
        finally:
            os.umask(old)
        try:
            data = unb64(req["data"])
            while data:
                written = os.write(fd, data)
                data = data[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise oserror(exc, path)


def op_mkdir(req):
    path = req["path"]
    old = os.umask(0o077)
    try:
        try:
            os.mkdir(path, req["mode"] & 0o700)
        finally:
            os.umask(old)
        if req.get("uid", -1) != -1 or req.get("gid", -1) != -1:
            os.chown(path, req.get("uid", -1), req.get("gid", -1))
        os.chmod(path, req["mode"])
    except OSError as exc:
        raise oserror(exc, path)


def op_chown(req):
    try:
        os.lchown(req["path"], req["uid"], req.get("gid", -1))
    except OSError as exc:
        raise oserror(exc, req["path"])


def op_chmod(req):
    try:
        os.chmod(req["path"], req["mode"])
    except OSError as exc:
        raise oserror(exc, req["path"])


def op_rename(req):
    if os.path.lexists(req["dst"]):
        raise OpError("HostError", "%s already exists; not overwriting it" % req["dst"])
    try:
        os.rename(req["src"], req["dst"])
    except OSError as exc:
        raise oserror(exc, req["src"])


def copy_owner(src, dst):
    st = os.lstat(src)
    try:
        os.lchown(dst, st.st_uid, st.st_gid)
    except OSError:
        pass


def op_copy_tree(req):
    src, dst = req["src"], req["dst"]
    if os.path.lexists(dst):
        raise OpError("HostError", "%s already exists; not overwriting it" % dst)

    def copy(s, d):
        shutil.copy2(s, d)
        copy_owner(s, d)

    try:
        shutil.copytree(src, dst, symlinks=True, copy_function=copy) if not PY2 else \
            shutil.copytree(src, dst, symlinks=True)
        for base, dirs, files in os.walk(dst):
            rel = os.path.relpath(base, dst)
            for name in dirs + files + ["."]:
                s = os.path.normpath(os.path.join(src, rel, name))
                d = os.path.normpath(os.path.join(base, name))
                if os.path.lexists(s):
                    copy_owner(s, d)
    except (OSError, shutil.Error) as exc:
        raise OpError("HostError", "copy %s -> %s failed: %s" % (src, dst, exc))


def op_symlink(req):
    try:
        os.symlink(req["target"], req["path"])
    except OSError as exc:
        raise oserror(exc, req["path"])


def op_remove(req):
    path = req["path"]
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError as exc:
        raise oserror(exc, path)


MESSAGE_DIRS = ("cur", "new", "tmp")


def op_snapshot(req):
    """lstat of every entry under each root down to its depth (not following links, not
    descending into Maildir message folders), listings of the directories walked, and the
    content of regular files up to max_size: one round trip for a whole audit."""
    max_size = req.get("max_size", 65536)
    max_entries = req.get("max_entries", 200000)
    stats, listings, contents = {}, {}, {}
    todo = [(root, depth) for root, depth in req["roots"]]
    while todo and len(stats) < max_entries:
        path, depth = todo.pop()
        try:
            info = lstat_info(path)
        except OpError:
            continue
        stats[path] = info
        if info is None:
            continue
        if info["is_dir"]:
            if depth <= 0 or os.path.basename(path) in MESSAGE_DIRS:
                continue
            try:
                names = sorted(os.listdir(path))
            except OSError:
                continue
            listings[path] = names
            todo.extend((os.path.join(path, n), depth - 1) for n in names)
        elif info["is_file"] and info["size"] <= max_size:
            try:
                with open(path, "rb") as fh:
                    contents[path] = b64(fh.read(max_size + 1))
            except (IOError, OSError):
                pass
    return {"stats": stats, "listings": listings, "contents": contents}


OPS = {
    "run": op_run,
    "read": op_read,
    "lstat": op_lstat,
    "list": op_list,
    "write_atomic": op_write_atomic,
    "append": op_append,
    "mkdir": op_mkdir,
    "chown": op_chown,
    "chmod": op_chmod,
    "rename": op_rename,
    "copy_tree": op_copy_tree,
    "symlink": op_symlink,
    "remove": op_remove,
    "snapshot": op_snapshot,
    "geteuid": lambda req: os.geteuid(),
    "access": lambda req: os.access(req["path"], os.W_OK),
}


def serve(stdin, stdout):
    stdout.write(json.dumps({"ready": True, "python": list(sys.version_info[:2])}) + "\n")
    stdout.flush()
    while True:
        line = stdin.readline()
        if not line:
            return
        try:
            req = json.loads(line)
            if req["op"] == "run_stream":
                def emit(text, rid=req.get("id")):
                    stdout.write(json.dumps({"id": rid, "line": text}) + "\n")
                    stdout.flush()
                result = op_run_stream(req, emit)
            else:
                result = OPS[req["op"]](req)
            reply = {"id": req.get("id"), "ok": True, "result": result}
        except OpError as exc:
            reply = {"id": req.get("id"), "ok": False, "kind": exc.kind, "error": exc.message}
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the client
            reply = {"ok": False, "kind": "HostError", "error": "%s: %s" % (type(exc).__name__, exc)}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
