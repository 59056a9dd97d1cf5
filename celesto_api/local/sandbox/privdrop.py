"""Launching bwrap from a root server without giving the sandbox host root.

The launcher (the forked child, before it execs bwrap) joins the computer's cgroups while
still root, bind-mounts the home at a world-traversable path in a private mount namespace,
then drops to the computer's unprivileged host uid. From there bwrap behaves exactly as for
an ordinary user: the sandbox's uid 1000 maps to that host uid, RLIMIT_NPROC is honoured
and files in the home belong to it.
"""

from __future__ import annotations

import ctypes
import grp
import hashlib
import os
import pwd

UID_BASE = 200_000
UID_COUNT = 65_536

# Unprivileged bwrap resolves bind sources as the dropped uid, so a home below a root-only
# directory (e.g. /root/.local/share) is unreachable. /dev/shm exists everywhere, is
# world-traversable, and bwrap never binds the host's copy (it mounts its own /dev), so the
# launcher's private mount namespace can put the home there.
STAGE = "/dev/shm"

CLONE_NEWNS = 0x00020000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18


def sandbox_uid(computer_id: str, base: int = UID_BASE, count: int = UID_COUNT) -> int:
    """A stable unprivileged host uid for the computer, avoiding existing users/groups."""
    start = int.from_bytes(hashlib.sha256(computer_id.encode()).digest()[:4], "big")
    for i in range(count):
        uid = base + (start + i) % count
        if not _in_use(uid):
            return uid
    raise RuntimeError(f"no free uid in [{base}, {base + count})")


def _in_use(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    try:
        grp.getgrgid(uid)
        return True
    except KeyError:
        return False


class RootLauncher:
    """``preexec_fn`` for a root server. Runs in the forked child, so it only makes
    syscalls; the libc handles are resolved beforehand in the parent."""

    def __init__(self, uid: int, cgroup_procs: list[str], home: str | None) -> None:
        self.uid = uid
        self.cgroup_procs = cgroup_procs
        self.home = os.fsencode(home) if home is not None else None
        libc = ctypes.CDLL(None, use_errno=True)
        self._unshare = libc.unshare
        self._mount = libc.mount

    def __call__(self) -> None:
        try:
            pid = str(os.getpid()).encode()
            for path in self.cgroup_procs:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
            if self.home is not None:
                self._check(self._unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
                self._check(self._mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount")
                stage = os.fsencode(STAGE)
                self._check(self._mount(self.home, stage, None, MS_BIND, None), "bind home")
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)
        except BaseException as exc:
            os.write(2, f"celesto launcher: {exc}\n".encode())
            raise

    @staticmethod
    def _check(result: int, what: str) -> None:
        if result != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")


CLONE_NEWUTS = 0x04000000
MS_NOSUID = 2
MS_NODEV = 4


class ProcessLauncher(RootLauncher):
    """``preexec_fn`` for the plain-process fallback under a root server: no user namespace,
    but root may still give the agent a private mount and UTS namespace. There the computer's
    home is mounted at ``/home/user`` (on a tmpfs hiding the host's /home), ``/etc/passwd``
    and ``/etc/group`` name its uid ``user``, and the hostname is the computer's; then the
    process drops to the computer's unprivileged host uid, as in bwrap mode. /tmp, /var/tmp
    and /dev/shm are its own size-capped tmpfs."""

    def __init__(
        self,
        uid: int,
        home: str,
        hostname: str,
        passwd: str,
        group: str,
        sandbox_home: str,
        tmp_size: int,
    ) -> None:
        super().__init__(uid, [], None)
        self.tmpfs_options = f"mode=1777,size={tmp_size}".encode()
        self.real_home = os.fsencode(home)
        self.hostname = hostname.encode()
        self.passwd = os.fsencode(passwd)
        self.group = os.fsencode(group)
        self.sandbox_home = os.fsencode(sandbox_home)
        libc = ctypes.CDLL(None, use_errno=True)
        self._sethostname = libc.sethostname

    def __call__(self) -> None:
        try:
            self._check(self._unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare(mount, uts)")
            self._check(self._mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount")
            parent = os.path.dirname(self.sandbox_home)
            flags = MS_NOSUID | MS_NODEV
            self._check(self._mount(b"tmpfs", parent, b"tmpfs", flags, b"mode=755"), "tmpfs")
            os.mkdir(self.sandbox_home, 0o755)
            self._check(self._mount(self.real_home, self.sandbox_home, None, MS_BIND, None), "home")
            self._check(self._mount(self.passwd, b"/etc/passwd", None, MS_BIND, None), "passwd")
            self._check(self._mount(self.group, b"/etc/group", None, MS_BIND, None), "group")
            for scratch in (b"/tmp", b"/var/tmp", b"/dev/shm"):
                # Private and size-capped, as in bwrap mode: gone when the computer stops.
                self._check(
                    self._mount(b"tmpfs", scratch, b"tmpfs", flags, self.tmpfs_options), "tmpfs"
                )
            name = self.hostname
            self._check(self._sethostname(name, len(name)), "sethostname")
            os.chdir(self.sandbox_home)
        except BaseException as exc:
            os.write(2, f"celesto launcher: {exc}\n".encode())
            raise
        super().__call__()
