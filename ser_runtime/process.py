"""Becoming a daemon the way SER does: working directory, limits, user and group, pid file.

These run once in the supervisor after every socket is bound, so a server
started as root can listen on 5060 and then run as `user`/`group`.
"""

from __future__ import annotations

import grp
import os
import pwd
import resource

from ser_runtime.settings import Settings


def become(settings: Settings) -> None:
    """Apply workdir, chroot, core dumps, open_files_limit, group and user (in that order, as SER does)."""
    if settings.workdir:
        os.chdir(settings.workdir)
    if settings.chroot:
        os.chroot(settings.chroot)
        os.chdir("/")
    if settings.disable_core_dump:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if settings.open_files_limit > 0:
        limit = settings.open_files_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    if settings.group:
        os.setgid(_group_id(settings.group))
    if settings.user:
        entry = _user(settings.user)
        if not settings.group:
            os.setgid(entry.pw_gid)
        os.initgroups(entry.pw_name, os.getgid())
        os.setuid(entry.pw_uid)


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise ValueError(f"unknown user {name!r}") from None


def _group_id(name: str) -> int:
    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ValueError(f"unknown group {name!r}") from None


def daemonize() -> None:
    """Detach from the terminal: fork twice, new session, standard streams on /dev/null."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def write_pid_file(path: str | None) -> None:
    """Written whole or not at all: serctl may read it at any moment."""
    if path:
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w") as file:
            file.write(f"{os.getpid()}\n")
        os.replace(partial, path)


def remove_pid_file(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
