"""In-sandbox agent: PID 1 of a bubblewrap sandbox (or a plain process in fallback mode).

Stdlib only; started as ``python3 -I -S agent.py`` (Python >= 3.9). It inherits a listening
AF_UNIX socket as fd ``$AGENT_FD`` and serves one JSON-line request per connection. File
descriptors travel with SCM_RIGHTS:

* ``{"op": "ping"}`` -> ``{"ok": true, "pid": N}``
* ``{"op": "exec", "command": str, "timeout": float, "env": {}}`` + fds [stdin, stdout, stderr]
  -> ``{"pid": N}`` then ``{"exit": code, "signal": sig, "timed_out": bool}``. Closing the
  connection before the exit message kills the process group.
* ``{"op": "pty", "cols": int, "rows": int, "env": {}}`` -> ``{"pid": N}`` + [master fd], then
  ``{"exit": code}``. EOF from the host hangs the session up (SIGHUP, SIGKILL after 1 s).
* ``{"op": "connect", "port": int}`` -> ``{"ok": true}`` + [tcp socket] or
  ``{"error": "refused", "errno": 111}``
* ``{"op": "listen", "port": int}`` -> ``{"ok": true}`` + [listening tcp socket on
  127.0.0.1:port] (the host accepts there: the computer's egress proxy)
* ``{"op": "stats"}`` -> cpu seconds, RSS, process count and home disk usage.

Errors are replied as ``{"error": str, ...}``; no request may bring the agent down, and
neither may the code it runs (see ``harden``: non-dumpable, and as PID 1 no signal handler
that a signal from inside the namespace could reach).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import heapq
import itertools
import json
import os
import resource
import selectors
import signal
import socket
import stat
import struct
import sys
import termios
import time
from collections.abc import Callable
from typing import Any

# A command is one argv string for /bin/sh, which the kernel caps at 128 KiB anyway.
MAX_REQUEST = 1 << 20
RECV_CHUNK = 1 << 18
MAX_FDS = 8
HANGUP_GRACE = 1.0
CONNECT_TIMEOUT = 5.0
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

ReadyCallback = Callable[[int], None]
ExitCallback = Callable[[int], None]


def log(message: str) -> None:
    try:
        sys.stderr.write(f"celesto-agent[{os.getpid()}]: {message}\n")
        sys.stderr.flush()
    except Exception:
        pass


def close_quietly(fds: list[int]) -> None:
    """Close and forget the fds (the list is emptied, so a second call is harmless)."""
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    fds.clear()


def exit_code(status: int) -> tuple[int, int]:
    """(shell-style exit code, terminating signal or 0)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return 128 + sig, sig
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), 0
    return 255, 0


def read_stat(pid: str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is the state)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].decode("ascii", "replace").split()


def all_pids() -> list[str]:
    try:
        return [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def session_members(sid: int) -> list[int]:
    members = []
    for pid in all_pids():
        fields = read_stat(pid)
        if fields is not None and len(fields) > 3 and fields[3] == str(sid):
            members.append(int(pid))
    return members


def signal_session(sid: int, sig: int) -> None:
    for pid in session_members(sid):
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def kill_group(pgid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pgid, signal.SIGKILL)


def disk_usage(root: str) -> int:
    total = 0
    try:
        root_dev = os.lstat(root).st_dev
    except OSError:
        return 0
    stack = [root]
    while stack:
        try:
            it = os.scandir(stack.pop())
        except OSError:
            continue
        with it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += st.st_blocks * 512
                if stat.S_ISDIR(st.st_mode) and st.st_dev == root_dev:
                    stack.append(entry.path)
    return total


class Loop:
    """A tiny selector loop with timers and a child-exit registry (we are the reaper)."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.timers: list[tuple[float, int]] = []
        self.timer_callbacks: dict[int, Callable[[], None]] = {}
        self.timer_ids = itertools.count(1)
        self.exit_callbacks: dict[int, ExitCallback] = {}

    def watch(self, fd: int, events: int, callback: ReadyCallback) -> None:
        self.selector.register(fd, events, callback)

    def unwatch(self, fd: int) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(fd)

    def call_later(self, delay: float, callback: Callable[[], None]) -> int:
        timer_id = next(self.timer_ids)
        self.timer_callbacks[timer_id] = callback
        heapq.heappush(self.timers, (time.monotonic() + delay, timer_id))
        return timer_id

    def cancel(self, timer_id: int) -> None:
        self.timer_callbacks.pop(timer_id, None)

    def on_exit(self, pid: int, callback: ExitCallback) -> None:
        self.exit_callbacks[pid] = callback

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            callback = self.exit_callbacks.pop(pid, None)
            if callback is not None:
                guarded(callback, status)

    def run_timers(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, timer_id = heapq.heappop(self.timers)
            callback = self.timer_callbacks.pop(timer_id, None)
            if callback is not None:
                guarded(callback)

    def run_forever(self) -> None:
        while True:
            timeout = None
            while self.timers and self.timers[0][1] not in self.timer_callbacks:
                heapq.heappop(self.timers)
            if self.timers:
                # epoll cannot wait longer than INT_MAX ms; far timers are re-checked.
                timeout = min(3600.0, max(0.0, self.timers[0][0] - time.monotonic()))
            try:
                events = self.selector.select(timeout)
            except Exception as exc:
                log(f"select failed: {exc!r}")
                time.sleep(0.05)
                events = []
            for key, mask in events:
                guarded(key.data, mask)
            self.reap()
            self.run_timers()


def guarded(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception as exc:
        log(f"callback {getattr(callback, '__name__', callback)!r} failed: {exc!r}")


class Conn:
    """One host connection: a request line (+fds), then replies; EOF triggers ``on_eof``."""

    def __init__(self, agent: Agent, sock: socket.socket) -> None:
        self.agent = agent
        self.sock = sock
        self.fd = sock.fileno()
        self.buf = bytearray()
        self.fds: list[int] = []
        self.handled = False
        self.closed = False
        self.on_eof: Callable[[], None] | None = None
        agent.loop.watch(self.fd, selectors.EVENT_READ, self.readable)

    def readable(self, mask: int) -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, RECV_CHUNK, MAX_FDS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        if self.handled:
            close_quietly(fds)
            if not data:
                # The host hung up (or shut down its side); keep the socket for the exit reply.
                callback, self.on_eof = self.on_eof, None
                self.agent.loop.unwatch(self.fd)
                if callback is None:
                    self.close()
                else:
                    callback()
            return
        self.fds.extend(fds)
        if not data:
            self.close()
            return
        self.buf += data
        if b"\n" in data:
            line = bytes(self.buf.split(b"\n", 1)[0])
            fds, self.fds = self.fds, []
            self.handled = True
            self.agent.dispatch(self, line, fds)
        elif len(self.buf) > MAX_REQUEST:
            self.close()

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> bool:
        if self.closed:
            return False
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        try:
            if fds:
                sent = socket.send_fds(self.sock, [data], fds)
                if sent < len(data):
                    self.sock.sendall(data[sent:])
            else:
                self.sock.sendall(data)
        except OSError:
            return False
        return True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.agent.loop.unwatch(self.fd)
        close_quietly(self.fds)
        self.fds = []
        with contextlib.suppress(OSError):
            self.sock.close()


class Agent:
    def __init__(self, listener: socket.socket) -> None:
        self.loop = Loop()
        self.listener = listener
        self.is_init = os.getpid() == 1
        self.home = os.environ.get("HOME") or os.getcwd()
        self.as_bytes = int(os.environ.get("AGENT_AS_BYTES") or 0)
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_")}
        self.base_env.setdefault("PATH", DEFAULT_PATH)
        self.base_env.setdefault("HOME", self.home)
        self.base_env.setdefault("LANG", "C.UTF-8")
        self.sessions: dict[int, str] = {}
        self.helpers: set[int] = set()
        wake_r, self.wake_w = socket.socketpair()
        wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.wake_r = wake_r
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        if not self.is_init:
            # As PID 1 of a PID namespace no handler is installed on purpose: the kernel then
            # drops every signal sent from inside (`kill 1`, `pkill`), and the host stops
            # the sandbox with SIGKILL, which it cannot drop.
            signal.signal(signal.SIGTERM, self.terminate)
        for ignored in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(ignored, signal.SIG_IGN)
        self.loop.watch(wake_r.fileno(), selectors.EVENT_READ, self.drain_wakeups)
        self.loop.watch(listener.fileno(), selectors.EVENT_READ, self.accept)
        self.handlers: dict[str, Callable[[Conn, dict[str, Any], list[int]], None]] = {
            "ping": self.op_ping,
            "exec": self.op_exec,
            "pty": self.op_pty,
            "connect": self.op_connect,
            "listen": self.op_listen,
            "stats": self.op_stats,
        }

    # -- plumbing -------------------------------------------------------------------------

    def terminate(self, signum: int, frame: Any) -> None:
        """SIGTERM outside a PID namespace (process mode): end our sessions, then us."""
        for sid in list(self.sessions):
            signal_session(sid, signal.SIGKILL)
        os._exit(0)

    def drain_wakeups(self, mask: int) -> None:
        try:
            while self.wake_r.recv(4096):
                pass
        except OSError:
            pass

    def accept(self, mask: int) -> None:
        for _ in range(64):
            try:
                sock, _addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # EMFILE and friends: back off instead of spinning on a readable listener.
                log(f"accept failed: {exc!r}")
                self.loop.unwatch(self.listener.fileno())
                self.loop.call_later(0.1, self.rewatch_listener)
                return
            sock.setblocking(False)
            # The host sends its request right after connecting: it is usually here already,
            # so read it now rather than after another trip through select().
            guarded(Conn(self, sock).readable, selectors.EVENT_READ)

    def rewatch_listener(self) -> None:
        self.loop.watch(self.listener.fileno(), selectors.EVENT_READ, self.accept)

    def dispatch(self, conn: Conn, line: bytes, fds: list[int]) -> None:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("request must be a JSON object")
            handler = self.handlers.get(str(request.get("op")))
            if handler is None:
                raise ValueError(f"unknown op {request.get('op')!r}")
        except ValueError as exc:
            close_quietly(fds)
            conn.send({"error": "bad-request", "message": str(exc)})
            conn.close()
            return
        try:
            handler(conn, request, fds)
        except Exception as exc:
            log(f"{request.get('op')} failed: {exc!r}")
            close_quietly(fds)
            reply: dict[str, Any] = {"error": "failed", "message": str(exc)}
            if isinstance(exc, OSError) and exc.errno:
                reply["errno"] = exc.errno
            conn.send(reply)
            conn.close()

    def child_env(self, extra: Any, term: str) -> dict[str, str]:
        env = dict(self.base_env)
        env["TERM"] = term
        if isinstance(extra, dict):
            for key, value in extra.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    raise ValueError("env must map strings to strings")
                if not key or "=" in key or "\0" in key or "\0" in value:
                    raise ValueError(f"invalid env entry {key!r}")
                env[key] = value
        return env

    def spawn(
        self,
        argv: list[str],
        env: dict[str, str],
        stdio: list[int],
        controlling_tty: int | None = None,
    ) -> int:
        # posix_spawn cannot set RLIMIT_AS before the exec, so rlimit mode keeps forking.
        if controlling_tty is None and min(stdio) > 2 and self.as_bytes <= 0:
            spawned = self.spawn_without_fork(argv, env, stdio)
            if spawned:
                return spawned
        pid = os.fork()
        if pid != 0:
            return pid
        try:
            self.become_child(argv, env, stdio, controlling_tty)
        except BaseException as exc:
            try:
                os.write(2, (f"celesto-agent: cannot run {argv[0]}: {exc}\n").encode())
            finally:
                os._exit(127)
        os._exit(127)

    def spawn_without_fork(self, argv: list[str], env: dict[str, str], stdio: list[int]) -> int:
        """What `become_child` does, through posix_spawn (vfork): forking this Python process
        costs 2-4 ms, most of an `exec true`. Returns 0 if posix_spawn failed."""
        try:
            for name in os.listdir("/proc/self/fd"):  # the child keeps only its stdio
                if int(name) > 2:
                    with contextlib.suppress(OSError):
                        os.set_inheritable(int(name), False)
            previous = os.getcwd()
        except OSError:
            return 0
        moved = False
        with contextlib.suppress(OSError):
            os.chdir(env.get("HOME", self.home))
            moved = True
        try:
            pid = os.posix_spawn(
                argv[0],
                argv,
                env,
                file_actions=[(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(stdio)],
                setsid=True,
                setsigmask=(),
                setsigdef=signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP},
            )
        except OSError:
            return 0
        finally:
            if moved:
                with contextlib.suppress(OSError):
                    os.chdir(previous)
        return pid

    def become_child(
        self,
        argv: list[str],
        env: dict[str, str],
        stdio: list[int],
        controlling_tty: int | None,
    ) -> None:
        signal.set_wakeup_fd(-1)
        for sig in signal.valid_signals():
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                with contextlib.suppress(OSError, ValueError):
                    signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.setsid()
        if controlling_tty is not None:
            fcntl.ioctl(controlling_tty, termios.TIOCSCTTY, 0)
        # Move the fds out of the 0..2 range first so the dup2s below cannot clobber them.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in stdio]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        for name in os.listdir("/proc/self/fd"):
            if int(name) > 2:
                with contextlib.suppress(OSError):
                    os.close(int(name))
        if self.as_bytes > 0:
            hard = resource.getrlimit(resource.RLIMIT_AS)[1]
            limit = self.as_bytes if hard == resource.RLIM_INFINITY else min(self.as_bytes, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        with contextlib.suppress(OSError):
            os.chdir(env.get("HOME", self.home))
        os.execve(argv[0], argv, env)

    # -- operations -----------------------------------------------------------------------

    def op_ping(self, conn: Conn, request: dict[str, Any], fds: list[int]) -> None:
        close_quietly(fds)
        conn.send({"ok": True, "pid": os.getpid()})
        conn.close()

    def op_exec(self, conn: Conn, request: dict[str, Any], fds: list[int]) -> None:
        command = request.get("command")
        if not isinstance(command, str):
            raise ValueError("command must be a string")
        timeout = float(request.get("timeout") or 0)
        env = self.child_env(request.get("env"), "dumb")
        stdio = list(fds[:3])
        opened = []
        while len(stdio) < 3:
            fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            opened.append(fd)
            stdio.append(fd)
        try:
            pid = self.spawn(["/bin/sh", "-c", command], env, stdio)
        finally:
            close_quietly(fds)
            close_quietly(opened)
        state = {"timed_out": False, "done": False}
        self.sessions[pid] = "exec"

        def on_timeout() -> None:
            state["timed_out"] = True
            kill_group(pid)

        timer = self.loop.call_later(timeout, on_timeout) if timeout > 0 else 0

        def on_exit(status: int) -> None:
            state["done"] = True
            self.sessions.pop(pid, None)
            self.loop.cancel(timer)
            code, sig = exit_code(status)

            def reply() -> None:
                conn.send({"exit": code, "signal": sig, "timed_out": state["timed_out"]})
                conn.close()

            if state["timed_out"]:
                # Report only once the rest of the group is gone too.
                self.when_group_gone(pid, time.monotonic() + 1.0, reply)
            else:
                reply()

        def on_eof() -> None:
            if not state["done"]:
                kill_group(pid)

        self.loop.on_exit(pid, on_exit)
        conn.on_eof = on_eof
        conn.send({"pid": pid})

    def when_group_gone(self, pgid: int, deadline: float, then: Callable[[], None]) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            then()
            return
        if time.monotonic() > deadline:
            then()
        else:
            self.loop.call_later(0.005, lambda: self.when_group_gone(pgid, deadline, then))

    def op_pty(self, conn: Conn, request: dict[str, Any], fds: list[int]) -> None:
        close_quietly(fds)
        cols = int(request.get("cols") or 80)
        rows = int(request.get("rows") or 24)
        env = self.child_env(request.get("env"), "xterm-256color")
        env.setdefault("COLORTERM", "truecolor")
        argv = ["/bin/bash", "-l"] if os.access("/bin/bash", os.X_OK) else ["/bin/sh", "-l"]
        env["SHELL"] = argv[0]
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            pid = self.spawn(argv, env, [slave, slave, slave], controlling_tty=slave)
        except BaseException:
            close_quietly([master, slave])
            raise
        os.close(slave)
        self.sessions[pid] = "pty"

        def on_exit(status: int) -> None:
            self.sessions.pop(pid, None)
            conn.send({"exit": exit_code(status)[0]})
            conn.close()

        def on_eof() -> None:
            signal_session(pid, signal.SIGHUP)
            signal_session(pid, signal.SIGCONT)
            self.loop.call_later(HANGUP_GRACE, lambda: signal_session(pid, signal.SIGKILL))

        self.loop.on_exit(pid, on_exit)
        conn.on_eof = on_eof
        try:
            conn.send({"pid": pid}, [master])
        finally:
            os.close(master)

    def op_connect(self, conn: Conn, request: dict[str, Any], fds: list[int]) -> None:
        close_quietly(fds)
        port = int(request.get("port") or 0)
        if not 0 < port < 65536:
            raise ValueError("port out of range")
        # Try IPv4 first, then ::1 (dev servers often listen on "localhost" = ::1 only).
        # The IPv4 error is the one reported when both fail.
        candidates = [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
        state: dict[str, Any] = {"done": False, "pending": None, "error": None}

        def drop_pending() -> None:
            pending = state["pending"]
            if pending is not None:
                state["pending"] = None
                self.loop.unwatch(pending.fileno())
                pending.close()

        def finish(reply: dict[str, Any], sock: socket.socket | None = None) -> None:
            state["done"] = True
            self.loop.cancel(timer)
            drop_pending()
            if sock is not None:
                conn.send(reply, [sock.fileno()])
                sock.close()
            else:
                conn.send(reply)
            conn.close()

        def failed(err: int) -> None:
            if state["error"] is None:
                state["error"] = err
            if err == errno.ECONNREFUSED and candidates:
                attempt()
            else:
                finish(error_reply(state["error"]))

        def attempt() -> None:
            family, address = candidates.pop(0)
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError as exc:
                failed(exc.errno or errno.EAFNOSUPPORT)
                return
            sock.setblocking(False)
            err = sock.connect_ex((address, port))
            if err == 0:
                finish({"ok": True}, sock)
            elif err == errno.EINPROGRESS:
                state["pending"] = sock
                self.loop.watch(sock.fileno(), selectors.EVENT_WRITE, settle)
            else:
                sock.close()
                failed(err)

        def settle(mask: int) -> None:
            sock = state["pending"]
            if state["done"] or sock is None:
                return
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self.loop.unwatch(sock.fileno())
            state["pending"] = None
            if err == 0:
                finish({"ok": True}, sock)
            else:
                sock.close()
                failed(err)

        def on_timeout() -> None:
            if not state["done"]:
                finish(error_reply(errno.ETIMEDOUT))

        timer = self.loop.call_later(CONNECT_TIMEOUT, on_timeout)
        attempt()

    def op_listen(self, conn: Conn, request: dict[str, Any], fds: list[int]) -> None:
        close_quietly(fds)
        port = int(request.get("port") or 0)
        if not 0 < port < 65536:
            raise ValueError("port out of range")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(1024)
            conn.send({"ok": True}, [sock.fileno()])
        finally:
            sock.close()
        conn.close()

    def op_stats(self, conn: Conn, request: dict[str, Any], fds: list[int]) -> None:
        close_quietly(fds)
        reply = self.process_stats()
        # The home walk can take a while; do it in a forked child so the loop stays responsive.
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                reply["home_used_bytes"] = disk_usage(self.home)
                conn.sock.setblocking(True)
                conn.send(reply)
            finally:
                os._exit(0)
        self.helpers.add(pid)
        self.loop.on_exit(pid, lambda status: self.helpers.discard(pid))
        conn.close()

    def process_stats(self) -> dict[str, Any]:
        ticks = float(os.sysconf("SC_CLK_TCK"))
        page = os.sysconf("SC_PAGE_SIZE")
        table: dict[int, list[str]] = {}
        for pid in all_pids():
            fields = read_stat(pid)
            # Zombies and our own stats helpers are not the computer's processes.
            usable = fields is not None and len(fields) > 21 and fields[0] != "Z"
            if usable and fields is not None and int(pid) not in self.helpers:
                table[int(pid)] = fields
        if not self.is_init:
            table = descendants(table, os.getpid())
        cpu = 0
        rss = 0
        for fields in table.values():
            # utime, stime, cutime, cstime: reaped children's time accumulates in their reaper,
            # ultimately in us, so the sum over live processes only grows.
            cpu += sum(int(v) for v in fields[11:15])
            rss += int(fields[21]) * page
        return {"cpu_seconds": cpu / ticks, "rss_bytes": rss, "process_count": len(table)}


def descendants(table: dict[int, list[str]], root: int) -> dict[int, list[str]]:
    children: dict[int, list[int]] = {}
    for pid, fields in table.items():
        children.setdefault(int(fields[1]), []).append(pid)
    result: dict[int, list[str]] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in table and pid not in result:
            result[pid] = table[pid]
            stack.extend(children.get(pid, []))
    return result


def error_reply(err: int) -> dict[str, Any]:
    name = "refused" if err == errno.ECONNREFUSED else errno.errorcode.get(err, "error").lower()
    return {"error": name, "errno": err, "message": os.strerror(err)}


def apply_startup_limits() -> None:
    nproc = int(os.environ.get("AGENT_NPROC") or 0)
    if nproc > 0:
        hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        limit = nproc if hard == resource.RLIM_INFINITY else min(nproc, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))


def become_subreaper() -> None:
    """Outside a PID namespace, adopt orphans so they are reaped and counted by us."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception as exc:
        log(f"cannot become subreaper: {exc!r}")


AGENT_NAME = b"celesto-agent"
PR_SET_NAME = 15
PR_SET_DUMPABLE = 4


def harden() -> None:
    """Shield the agent from the code it runs (same uid): non-dumpable, so neither ptrace,
    pidfd_getfd nor /proc/1/fd|mem reach it; named so that `pkill python3` does not match.
    Children are dumpable again once they exec."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log(f"cannot become non-dumpable: {os.strerror(ctypes.get_errno())}")
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(AGENT_NAME), 0, 0, 0)
    except Exception as exc:
        log(f"cannot harden the agent: {exc!r}")


def main() -> None:
    harden()
    fd = int(os.environ["AGENT_FD"])
    os.set_inheritable(fd, False)
    listener = socket.socket(fileno=fd)
    listener.setblocking(False)
    try:
        apply_startup_limits()
    except (OSError, ValueError) as exc:
        log(f"cannot apply limits: {exc!r}")
    if os.getpid() != 1:
        become_subreaper()
    Agent(listener).loop.run_forever()


if __name__ == "__main__":
    main()
