"""Typed blocking views of async methods, for the sync facade (``codex_app_server_client.sync``).

A sync class declares ``start = blocking(Threads.start)`` once per method: the descriptor keeps
the async method's parameters (through ``ParamSpec``) and drops the ``Awaitable`` from its
return type, so a type checker sees ``client.threads.start(...) -> ThreadStartResponse`` with
no hand-written signature, and at run time the call is handed to the owning client's portal.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar, cast, overload

__all__ = ["Runner", "SyncIterator", "SyncProxy", "blocking", "blocking_iter"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
S = TypeVar("S")


class Runner(Protocol):
    """What a blocking view needs from its client: run coroutines on the client's loop.

    The sync client's loop object implements it; the blocking views of one client share it.
    """

    def run(self, func: Callable[[], Awaitable[R]]) -> R:
        """Run ``func()`` on the loop and block the calling thread until it is done."""
        ...

    def schedule(self, func: Callable[[], Awaitable[object]]) -> None:
        """Run ``func()`` on the loop for a finalizer (``__del__``); never raises."""
        ...


class SyncProxy(Generic[S]):
    """Base of a blocking view of one async object (``S``), run through ``runner``."""

    __slots__ = ("_runner", "_target")

    def __init__(self, target: S, runner: Runner) -> None:
        self._target = target
        self._runner = runner

    @property
    def wrapped(self) -> S:
        """Internal: the async object behind this blocking view.

        Public to this package (the :func:`blocking` descriptors and the tests read it), not
        part of the supported API: use it only on the client's loop (through ``portal``).
        """
        return self._target

    @property
    def runner(self) -> Runner:
        """Internal: what runs this view's calls on the client's loop (see :attr:`wrapped`)."""
        return self._runner

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"


def _describe(call: Callable[..., Any], method: Callable[..., Any]) -> None:
    """Give the bound callable the async method's name, docs and signature (minus ``self``)."""
    call.__name__ = method.__name__
    call.__qualname__ = method.__qualname__
    call.__doc__ = method.__doc__
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    # Functions take any attribute; inspect.signature() and help() read this one.
    call.__dict__["__signature__"] = signature.replace(
        parameters=list(signature.parameters.values())[1:]
    )


class blocking(Generic[S, P, R]):
    """``name = blocking(AsyncClass.method)``: the method, blocking, on a :class:`SyncProxy`."""

    def __init__(self, method: Callable[Concatenate[S, P], Awaitable[R]]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: SyncProxy[S], owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, obj: SyncProxy[S] | None, owner: type[Any]) -> Self | Callable[P, R]:
        if obj is None:
            return self
        method = self._method
        target = obj.wrapped
        runner = obj.runner

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return runner.run(lambda: method(target, *args, **kwargs))

        _describe(call, method)
        return call


class blocking_iter(Generic[S, P, T]):
    """``name = blocking_iter(AsyncClass.method)`` for a method that returns an async iterator.

    The blocking form returns a :class:`SyncIterator`: a plain iterator that fetches each item
    on the client's loop.
    """

    def __init__(self, method: Callable[Concatenate[S, P], AsyncIterator[T]]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: SyncProxy[S], owner: type[Any]) -> Callable[P, SyncIterator[T]]: ...
    def __get__(
        self, obj: SyncProxy[S] | None, owner: type[Any]
    ) -> Self | Callable[P, SyncIterator[T]]:
        if obj is None:
            return self
        method = self._method
        target = obj.wrapped
        runner = obj.runner

        def call(*args: P.args, **kwargs: P.kwargs) -> SyncIterator[T]:
            # Calling an async generator function runs none of its body: safe in this thread.
            return SyncIterator(method(target, *args, **kwargs), runner)

        _describe(call, method)
        return call


class SyncIterator(Iterator[T]):
    """A plain iterator over an async iterator that lives on a client's event loop.

    Each ``next()`` fetches one item on the loop and blocks until it is there. Stop early with
    ``break``; the async iterator is then closed on the loop (explicitly with :meth:`close`,
    or ``with`` the iterator).
    """

    def __init__(self, source: AsyncIterator[T], runner: Runner) -> None:
        self._source = source
        self._runner = runner
        self._done = False

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        source = self._source

        async def fetch() -> tuple[bool, T | None]:
            # StopAsyncIteration is turned into a flag: it must not cross the portal's future.
            try:
                return True, await anext(source)
            except StopAsyncIteration:
                return False, None

        try:
            more, item = self._runner.run(fetch)
        except BaseException:
            self._done = True
            raise
        if not more:
            self._done = True
            raise StopIteration
        return cast("T", item)  # more is True: item is a T

    def close(self) -> None:
        """Close the async iterator on the loop; idempotent."""
        if self._done:
            return
        self._done = True
        aclose: Callable[[], Awaitable[object]] | None = getattr(self._source, "aclose", None)
        if aclose is not None:
            self._runner.run(aclose)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if self._done:
            return
        self._done = True
        aclose: Callable[[], Awaitable[object]] | None = getattr(self._source, "aclose", None)
        if aclose is not None:
            self._runner.schedule(aclose)
