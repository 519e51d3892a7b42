"""Blocking views of the async wrapper namespaces (``client.threads``, ...) for the sync client.

One line per method: :func:`~codex_app_server_client._sync_proxy.blocking` keeps each async
method's parameters and result type; methods that page through results become plain
iterators (:func:`~codex_app_server_client._sync_proxy.blocking_iter`). A test checks that
every public async method has its blocking twin here.
"""

from __future__ import annotations

from . import _wrappers as aio
from ._sync_proxy import SyncProxy, blocking, blocking_iter

__all__ = [
    "Threads",
    "Turns",
    "Review",
    "Models",
    "Account",
    "Config",
    "Command",
    "Fs",
    "Skills",
    "Mcp",
]


class Threads(SyncProxy[aio.Threads]):
    """Blocking thread methods (``thread/*``): create, resume, fork, read, list, archive."""

    __slots__ = ()
    start = blocking(aio.Threads.start)
    resume = blocking(aio.Threads.resume)
    fork = blocking(aio.Threads.fork)
    read = blocking(aio.Threads.read)
    list_page = blocking(aio.Threads.list_page)
    list = blocking_iter(aio.Threads.list)
    loaded_page = blocking(aio.Threads.loaded_page)
    loaded = blocking(aio.Threads.loaded)
    archive = blocking(aio.Threads.archive)
    unarchive = blocking(aio.Threads.unarchive)
    delete = blocking(aio.Threads.delete)
    set_name = blocking(aio.Threads.set_name)
    compact = blocking(aio.Threads.compact)
    unsubscribe = blocking(aio.Threads.unsubscribe)
    turns_page = blocking(aio.Threads.turns_page)
    turns = blocking_iter(aio.Threads.turns)
    items_page = blocking(aio.Threads.items_page)
    items = blocking_iter(aio.Threads.items)


class Turns(SyncProxy[aio.Turns]):
    """Blocking view. Raw turn methods: start without waiting, steer, interrupt."""

    __slots__ = ()
    start = blocking(aio.Turns.start)
    steer = blocking(aio.Turns.steer)
    interrupt = blocking(aio.Turns.interrupt)


class Review(SyncProxy[aio.Review]):
    """Blocking view. ``review/start``: run a code review as a turn."""

    __slots__ = ()
    start = blocking(aio.Review.start)


class Models(SyncProxy[aio.Models]):
    """Blocking view. ``model/list``: the models the server offers."""

    __slots__ = ()
    list_page = blocking(aio.Models.list_page)
    list = blocking(aio.Models.list)


class Account(SyncProxy[aio.Account]):
    """Blocking view. ``account/*``: who is logged in, rate limits, login and logout."""

    __slots__ = ()
    read = blocking(aio.Account.read)
    rate_limits = blocking(aio.Account.rate_limits)
    login_start = blocking(aio.Account.login_start)
    login_cancel = blocking(aio.Account.login_cancel)
    logout = blocking(aio.Account.logout)


class Config(SyncProxy[aio.Config]):
    """Blocking view. ``config/*``: read the effective configuration, write config.toml values."""

    __slots__ = ()
    read = blocking(aio.Config.read)
    write_value = blocking(aio.Config.write_value)
    batch_write = blocking(aio.Config.batch_write)


class Command(SyncProxy[aio.Command]):
    """Blocking view. ``command/exec`` and its companions: run a command outside any thread."""

    __slots__ = ()
    exec = blocking(aio.Command.exec)
    write = blocking(aio.Command.write)
    resize = blocking(aio.Command.resize)
    terminate = blocking(aio.Command.terminate)


class Fs(SyncProxy[aio.Fs]):
    """Blocking view. ``fs/*``: files on the server's machine. Paths must be absolute."""

    __slots__ = ()
    read_file = blocking(aio.Fs.read_file)
    write_file = blocking(aio.Fs.write_file)
    create_directory = blocking(aio.Fs.create_directory)
    metadata = blocking(aio.Fs.metadata)
    read_directory = blocking(aio.Fs.read_directory)
    remove = blocking(aio.Fs.remove)
    copy = blocking(aio.Fs.copy)


class Skills(SyncProxy[aio.Skills]):
    """Blocking view. ``skills/list``: the skills available to threads."""

    __slots__ = ()
    list = blocking(aio.Skills.list)


class Mcp(SyncProxy[aio.Mcp]):
    """Blocking view. ``mcpServerStatus/list``: the configured MCP servers and their tools."""

    __slots__ = ()
    server_status_page = blocking(aio.Mcp.server_status_page)
    server_status = blocking(aio.Mcp.server_status)
