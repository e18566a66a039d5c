"""The `ser` server: binding, the worker processes and their supervisor (SER's main.c).

Start-up checks and compiles the script, binds every socket, drops
privileges, then forks `children` workers. Each UDP listener gets one
SO_REUSEPORT socket per worker (the kernel spreads datagrams by source
address) and one socket of the worker's own, whose port goes in the Via of
what that worker forwards, so replies return to it. The supervisor keeps
every socket open: a worker that dies is logged and replaced on the same
sockets, and what arrived meanwhile waits in their buffers. SIGTERM stops
the workers and exits; SIGHUP re-reads the configuration and restarts the
workers on it only when it checks clean.

With `fifo` set, the supervisor also makes the FIFO and the JSON-RPC
socket beside it and forks the control process (ser_runtime/control/),
with its own UDP port per UDP listener; it is replaced like a worker.
The pids of every process and the workers' counters live in shared
memory (control/stats.py) mapped before forking: the supervisor writes
the pids, each process its own counters, the control process reads them.
"""

from __future__ import annotations

import gc
import logging
import os
import selectors
import signal
import socket
import time
from dataclasses import dataclass, field

from ser_runtime import core_actions
from ser_runtime.context import PROTO_UDP
from ser_runtime.control import fifo, jsonrpc, process
from ser_runtime.control.commands import Control
from ser_runtime.control.stats import SharedStats
from ser_runtime.myself import Myself
from ser_runtime.net.resolver import ResolveError, Resolver
from ser_runtime.net.streams import StreamLimits, StreamTransport
from ser_runtime.net.tls import TlsConfigError, client_context, server_context
from ser_runtime.sender import Sender
from ser_runtime.settings import Listener, Settings, SettingsError
from ser_runtime.worker import Worker
from stdlib_modules import rr
from stdlib_modules.exports import CONTROL_RANK, TIMER_RANK, ModuleStartError
from ser_script.checker import check_file
from ser_script.compiler import BindError, CompiledScript, ScriptEnv, compile_script, config_myself

LOG = logging.getLogger("ser.core")
RESPAWN_PAUSE = 1.0
_SUPERVISED_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD}


class StartError(Exception):
    """Why the server cannot start (or reload): one line for the user."""


@dataclass
class Sockets:
    """Every bound socket: per UDP listener one shared and one own socket per worker, and one for
    the control process when there is one; stream listeners."""

    listeners: list[Listener]
    shared: dict[Listener, list[socket.socket]] = field(default_factory=dict)
    own: dict[Listener, list[socket.socket]] = field(default_factory=dict)
    streams: dict[Listener, socket.socket] = field(default_factory=dict)
    control: dict[Listener, socket.socket] = field(default_factory=dict)

    def own_ports(self) -> list[tuple[str, int]]:
        socks = [(l, s) for l, group in self.own.items() for s in group] + list(self.control.items())
        return [(l.ip, s.getsockname()[1]) for l, s in socks]

    def close(self) -> None:
        for sock in self.all():
            sock.close()

    def all(self) -> list[socket.socket]:
        socks = list(self.streams.values()) + list(self.control.values())
        for group in (*self.shared.values(), *self.own.values()):
            socks += group
        return socks


def load(config_path: str, options, dialect: str | None) -> tuple[Settings, object]:
    """Check the script and read its settings; StartError with every error when it is not clean."""
    try:
        result = check_file(config_path, dialect)
    except OSError as exc:
        raise StartError(f"cannot read {config_path}: {exc.strerror or exc}") from None
    if result.errors:
        lines = result.source.splitlines()
        raise StartError("\n".join(d.render(lines) for d in result.errors))
    settings = Settings.from_config(result.config)
    try:
        settings.apply_options(options)
    except SettingsError as exc:
        raise StartError(str(exc)) from None
    _refuse_missing(settings, result)
    return settings, result


def _refuse_missing(settings: Settings, result) -> None:
    """Before binding anything: every function the script calls must have a body."""
    sender = Sender(settings, [], resolver=None)
    env = ScriptEnv(myself=config_myself(result.config), actions={**core_actions.ACTIONS, **sender.actions()},
                    stub_missing=True)
    missing = compile_script(result, env).missing
    if missing:
        raise StartError("not implemented yet: " + ", ".join(sorted(missing)))


def bind(settings: Settings, workers: int) -> Sockets:
    """Bind every listener; StartError naming the first socket that cannot be bound."""
    try:
        listeners = settings.listeners()
    except SettingsError as exc:
        raise StartError(str(exc)) from None
    sockets = Sockets(listeners)
    try:
        for listener in listeners:
            if listener.proto == PROTO_UDP:
                sockets.shared[listener] = [_udp(listener, listener.port, settings, True) for _ in range(workers)]
                sockets.own[listener] = [_udp(listener, 0, settings, False) for _ in range(workers)]
                if settings.fifo and settings.fork:
                    sockets.control[listener] = _udp(listener, 0, settings, False)
            else:
                sockets.streams[listener] = _stream_listener(listener)
    except OSError as exc:
        sockets.close()
        raise StartError(f"cannot bind {listener}: {exc.strerror or exc}") from None
    return sockets


def _udp(listener: Listener, port: int, settings: Settings, shared: bool) -> socket.socket:
    sock = socket.socket(listener.family, socket.SOCK_DGRAM)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, settings.maxbuffer)
    if settings.tos is not None:
        if listener.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, settings.tos)
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, settings.tos)
    sock.bind((listener.ip, port))
    return sock


def _stream_listener(listener: Listener) -> socket.socket:
    sock = socket.socket(listener.family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((listener.ip, listener.port))
    sock.listen(128)
    return sock


def compile_for(settings: Settings, result, sockets: Sockets) -> tuple[CompiledScript, Sender, Myself]:
    """Bind the script against this server's sockets; StartError on what the fix-up pass refuses."""
    resolver = Resolver.from_environment(try_ipv6=settings.dns_try_ipv6, timeout=settings.dns_retr_time or 2.0)
    sender = Sender(settings, sockets.listeners, resolver)
    myself = settings.myself(sockets.listeners, sockets.own_ports())
    rr.configure(myself)
    env = ScriptEnv(myself=myself, actions={**core_actions.ACTIONS, **sender.actions()},
                    resolve=lambda host, port: _resolvable(resolver, host, port))
    try:
        script = compile_script(result, env)
    except BindError as exc:
        lines = result.source.splitlines()
        raise StartError("\n".join(d.render(lines) for d in exc.diagnostics)) from None
    sender.onsend = script.route("onsend_route", "") if script.dialect == "2.0" else None
    start_modules(script)
    return script, sender, myself


def start_modules(script: CompiledScript) -> None:
    """Each module's `start` hook, once, before forking (what SER's mod_init did beyond fixups)."""
    for module, state in script.modules:
        if module.start is None:
            continue
        try:
            module.start(state)
        except ModuleStartError as exc:
            raise StartError(f"{module.name}: {exc}") from None


def child_init(script: CompiledScript, rank: int) -> None:
    for module, state in script.modules:
        if module.child_init is not None:
            module.child_init(state, rank)


def module_timers(script: CompiledScript) -> list[tuple[float, object, object]]:
    return [(m.timer_interval, m.timer, state) for m, state in script.modules if m.timer is not None]


def _resolvable(resolver: Resolver, host: str, port: int | None) -> None:
    """SER resolves a fixed forward() host at start-up; so do we (the resolver caches the answer)."""
    try:
        resolver.resolve_host(host, port, PROTO_UDP)
    except ResolveError as exc:
        raise ValueError(str(exc)) from None


class Supervisor:
    """Forks the workers, replaces the ones that die, stops and reloads them on signals."""

    def __init__(self, config_path: str, options, dialect: str | None):
        self.config_path = config_path
        self.options = options
        self.dialect = dialect
        self.settings, result = load(config_path, options, dialect)
        self.workers_count = self.settings.children if self.settings.fork else 1
        self.sockets = bind(self.settings, self.workers_count)
        self.script, self.sender, self.myself = compile_for(self.settings, result, self.sockets)
        self.tls = _tls_contexts(self.settings)
        self.relay = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.pids: dict[int, int] = {}
        self.started: dict[int, float] = {}
        self._signals: list[int] = []
        self.control_io = _control_io(self.settings)
        self.shared = SharedStats(self.workers_count + 3, self.workers_count + 2)
        self.shared.set_pid(0, os.getpid())
        self.started_at = time.time()

    def adopt_pid(self) -> None:
        """After daemonizing, this process has a new pid: `ps` must name it."""
        self.shared.set_pid(0, os.getpid())

    def describe(self) -> list[str]:
        return [str(listener) for listener in self.sockets.listeners]

    # --- workers ----------------------------------------------------------------------------

    def start_workers(self) -> None:
        for index in range(self.workers_count):
            self._spawn(index)
        if module_timers(self.script):
            self._spawn(TIMER_RANK)
        if self.control_io is not None:
            self._spawn(CONTROL_RANK)

    def _spawn(self, index: int) -> None:
        # A signal reaching the child before it drops the supervisor's handlers would be lost:
        # it stays pending until the child's own are in place.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SUPERVISED_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                os._exit(self._worker_main(index))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SUPERVISED_SIGNALS)
        self.pids[pid] = index
        self.started[index] = time.monotonic()
        self.shared.set_pid(self._slot(index), pid)

    def _slot(self, index: int) -> int:
        """A process's pid slot: the supervisor, the workers, the timer, the control process."""
        return {TIMER_RANK: self.workers_count + 1, CONTROL_RANK: self.workers_count + 2}.get(index, index + 1)

    def _block(self, index: int) -> int:
        """A process's counter block: the workers', the control process's, the timer's."""
        return {CONTROL_RANK: self.workers_count, TIMER_RANK: self.workers_count + 1}.get(index, index)

    def process_names(self) -> list[str]:
        """What `ps` calls each pid slot."""
        listeners = ", ".join(str(l) for l in self.sockets.listeners)
        workers = [f"receiver child={i} ({listeners})" for i in range(self.workers_count)]
        return ["attendant", *workers, "timer", "fifo server"]

    def _worker_main(self, index: int) -> int:
        try:
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SUPERVISED_SIGNALS)
            tune_gc()
            self.shared.attach(self._block(index))
            child_init(self.script, index)
            if index == TIMER_RANK:
                run_timers(ModuleTimers(module_timers(self.script), time.monotonic()))
            elif index == CONTROL_RANK:
                self.run_control()
            else:
                self.run_worker(index)
            return 0
        except Exception as exc:
            LOG.critical("worker %d failed: %s: %s", index, type(exc).__name__, exc)
            return 1

    def run_alone(self) -> None:
        """fork=no: this process is worker 0 and runs the module timers too."""
        tune_gc()
        child_init(self.script, 0)
        self.run_worker(0)

    def run_worker(self, index: int) -> None:
        """One worker's loop; index 0 also owns the TCP/TLS connections."""
        shared = {l: socks[index] for l, socks in self.sockets.shared.items()}
        own = {l: socks[index] for l, socks in self.sockets.own.items()}
        selector = selectors.DefaultSelector()
        worker = Worker(self.settings, self.script, self.sender, self.myself)
        streams, relay = None, None
        if index == 0:
            streams = self._stream_transport(selector, worker)
            relay = self.relay[0]
        self.sender.attach(shared, own, streams=streams, relay=None if index == 0 else self.relay[1])
        udp = [(s, l) for l, s in shared.items()] + [(s, l) for l, s in own.items()]
        # With fork=no the one process runs the module timers too.
        timers = None if self.settings.fork else ModuleTimers(module_timers(self.script), time.monotonic())
        worker.serve(selector, udp, relay=relay, streams=streams, timers=timers)

    def run_control(self) -> None:
        """The control process's loop: the FIFO, the JSON-RPC socket and its own UDP ports."""
        selector = selectors.DefaultSelector()
        worker = Worker(self.settings, self.script, self.sender, self.myself)
        own = dict(self.sockets.control)
        self.sender.attach(own, own, relay=self.relay[1])
        control = Control(self.shared, self.process_names(), os.getppid(), self.started_at)
        fifo_fd, rpc_sock = self.control_io
        process.serve(worker, selector, [(s, l) for l, s in own.items()], fifo_fd, self.settings.fifo_dir,
                      rpc_sock, control, self.script.modules)

    def _stream_transport(self, selector, worker: Worker) -> StreamTransport:
        s = self.settings
        limits = StreamLimits(connect_timeout=s.tcp_connect_timeout, send_timeout=s.tcp_send_timeout,
                              lifetime=s.tcp_connection_lifetime, handshake_timeout=s.tls_handshake_timeout,
                              max_connections=s.tcp_max_connections)
        server_tls, client_tls = self.tls
        streams = StreamTransport(selector, worker.handle, limits, server_tls=server_tls, client_tls=client_tls)
        for listener, sock in self.sockets.streams.items():
            streams.listen(sock, listener.proto)
        return streams

    # --- supervising ------------------------------------------------------------------------

    def catch_signals(self) -> None:
        """Note the supervised signals from now on, before the pid file and the workers exist:
        a SIGTERM sent as soon as either appears must stop the server, not kill the supervisor."""
        self._reader, self._wakeup = socket.socketpair()
        self._wakeup.setblocking(False)
        signal.set_wakeup_fd(self._wakeup.fileno(), warn_on_full_buffer=False)
        for signum in _SUPERVISED_SIGNALS:
            signal.signal(signum, self._note_signal)

    def supervise(self) -> int:
        """Until SIGTERM/SIGINT: reap and replace dead workers, reload on SIGHUP. Returns the exit code.

        `catch_signals` must have run first."""
        while True:
            if _wait(self._reader, 1.0):
                self._reader.recv(512)
            pending, self._signals = self._signals, []
            if signal.SIGTERM in pending or signal.SIGINT in pending:
                # Before reaping: children that a SIGTERM to the process group ended are not replaced.
                self.stop_workers()
                return 0
            self._reap()
            if signal.SIGHUP in pending:
                self.reload()

    def _note_signal(self, signum, frame) -> None:
        self._signals.append(signum)

    def _reap(self) -> None:
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            index = self.pids.pop(pid, None)
            if index is None:
                continue
            self.shared.set_pid(self._slot(index), 0)
            name = {TIMER_RANK: "the timer process", CONTROL_RANK: "the control process"}.get(index, f"worker {index}")
            LOG.error("%s (pid %d) %s; starting a new one", name, pid, _exit_text(status))
            pause = RESPAWN_PAUSE - (time.monotonic() - self.started.get(index, 0))
            if pause > 0:
                time.sleep(pause)
            self._spawn(index)

    def stop_workers(self) -> None:
        """SIGTERM every worker; SIGKILL what is still running after exit_timeout."""
        for pid in self.pids:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.exit_timeout
        while self.pids and time.monotonic() < deadline:
            for pid in list(self.pids):
                if _reaped(pid):
                    del self.pids[pid]
            time.sleep(0.02)
        for pid in self.pids:
            _kill(pid, signal.SIGKILL)
            _reaped(pid, 0)
        self.pids.clear()

    def reload(self) -> None:
        """SIGHUP: a configuration that checks clean replaces the running one; any other is refused."""
        try:
            settings, result = load(self.config_path, self.options, self.dialect)
            workers = settings.children if settings.fork else 1
            same = settings.listeners() == self.sockets.listeners and workers == self.workers_count
            sockets = self.sockets if same else bind(settings, workers)
            script, sender, myself = compile_for(settings, result, sockets)
            tls = _tls_contexts(settings)
        except (StartError, SettingsError) as exc:
            LOG.error("SIGHUP: %s: not reloaded, the running configuration stays:\n%s", self.config_path, exc)
            return
        self.stop_workers()
        if sockets is not self.sockets:
            self.sockets.close()
        self.settings, self.sockets, self.tls = settings, sockets, tls
        self.script, self.sender, self.myself = script, sender, myself
        if workers != self.workers_count:
            self.shared = SharedStats(workers + 3, workers + 2)
            self.shared.set_pid(0, os.getpid())
        self.workers_count = workers
        self.start_workers()
        LOG.warning("SIGHUP: %s reloaded", self.config_path)


def tune_gc() -> None:
    """A worker makes hundreds of short-lived objects per message, almost all freed by reference
    counting (tm breaks its own cycles), so the cyclic collector's default pace (every 700
    allocations, scanning the live transactions too) costs ~15% of a stateful proxy's CPU.
    What exists at the fork (the compiled script, the modules) is frozen out of its scans."""
    gc.freeze()
    gc.set_threshold(20000, 20, 50)


class ModuleTimers:
    """Every module timer at its interval (SER's timer process); `tick` runs the due ones.

    A timer that raises is logged and runs again at its next turn, so one
    bad database round does not stop expiry for good.
    """

    def __init__(self, timers: list, now: float):
        self.timers = timers
        self.due = [now + interval for interval, _, _ in timers]

    def next_deadline(self) -> float | None:
        return min(self.due, default=None)

    def tick(self, now: float) -> None:
        for i, (interval, timer, state) in enumerate(self.timers):
            if now >= self.due[i]:
                self.due[i] = now + interval
                try:
                    timer(state, now)
                except Exception as exc:
                    LOG.error("timer of %s failed: %s: %s", timer.__module__, type(exc).__name__, exc)


def run_timers(timers: ModuleTimers) -> None:
    """The timer process's loop, until SIGTERM."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    while not stopping:
        timers.tick(time.monotonic())
        time.sleep(max(0.0, timers.next_deadline() - time.monotonic()))


def _control_io(settings: Settings):
    """With `fifo` set: the FIFO's read end and the JSON-RPC socket beside it (StartError if not)."""
    if not settings.fifo:
        return None
    if not settings.fork:
        LOG.warning("fifo %s: no control process with fork=no", settings.fifo)
        return None
    try:
        reader, _keep_open = fifo.create(settings.fifo, settings.fifo_mode, settings.fifo_user,
                                         settings.fifo_group)
    except fifo.FifoError as exc:
        raise StartError(str(exc)) from None
    path = settings.fifo + ".jsonrpc"
    try:
        rpc = jsonrpc.listen(path, settings.fifo_mode)
    except OSError as exc:
        raise StartError(f"jsonrpc socket {path}: {exc.strerror or exc}") from None
    return reader, rpc


def _tls_contexts(settings: Settings):
    if not settings.tls:
        return None, None
    try:
        server = server_context(settings.tls_certificate, settings.tls_private_key, settings.tls_ca_list,
                                verify=settings.tls_verify, require_certificate=settings.tls_require_certificate,
                                method=settings.tls_method)
        client = client_context(settings.tls_ca_list, verify=settings.tls_verify,
                                certificate=settings.tls_certificate, private_key=settings.tls_private_key)
    except TlsConfigError as exc:
        raise StartError(f"TLS: {exc}") from None
    return server, client


def _wait(sock: socket.socket, timeout: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout))


def _reaped(pid: int, flags: int = os.WNOHANG) -> bool:
    try:
        return os.waitpid(pid, flags)[0] != 0
    except ChildProcessError:
        return True


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.WEXITSTATUS(status)}"
