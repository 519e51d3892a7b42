"""Typed, thin wrappers over the app-server's methods, grouped by topic.

Each namespace holds the client and turns keyword-only snake_case arguments into the protocol's
camelCase params, sends one request (or one per page) through ``client.request``, and returns
the result the server sent (unwrapped where the answer has a single useful member). Arguments
left out are not sent, so the server's defaults apply. Nothing here interprets results: turn
bookkeeping stays in the client and the engine.

``CodexClient`` exposes them as ``client.threads``, ``client.turns``, ``client.review``,
``client.models``, ``client.account``, ``client.config``, ``client.command``, ``client.fs``,
``client.skills`` and ``client.mcp``::

    async with CodexClient("stdio://") as client:
        started = await client.threads.start(cwd="/work/repo")
        async for thread in client.threads.list(limit=50):
            print(thread["id"], thread["preview"])

Work started by :meth:`Turns.start`, :meth:`Review.start` and :meth:`Threads.compact` runs as a
turn the client does not track: follow it with ``client.on_notification`` (``item/completed``,
``turn/completed``) or read it back later with :meth:`Threads.turns`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .errors import CodexProtocolError

if TYPE_CHECKING:
    from .types import (
        ApprovalsReviewer,
        AskForApproval,
        CancelLoginAccountResponse,
        CommandExecResponse,
        ConfigEdit,
        ConfigReadResponse,
        ConfigWriteResponse,
        FsGetMetadataResponse,
        FsReadDirectoryEntry,
        GetAccountRateLimitsResponse,
        GetAccountResponse,
        ListMcpServerStatusResponse,
        LoginAccountResponse,
        McpServerStatus,
        McpServerStatusDetail,
        MergeStrategy,
        Model,
        ModelListResponse,
        Personality,
        ReviewDelivery,
        ReviewStartResponse,
        ReviewTarget,
        SandboxMode,
        SandboxPolicy,
        SkillsListEntry,
        SortDirection,
        Thread,
        ThreadForkResponse,
        ThreadItemEntry,
        ThreadItemsListCursor,
        ThreadItemsListResponse,
        ThreadListResponse,
        ThreadLoadedListResponse,
        ThreadResumeResponse,
        ThreadSortKey,
        ThreadStartResponse,
        ThreadTurnsListResponse,
        ThreadUnsubscribeStatus,
        Turn,
        TurnItemsView,
    )

__all__ = [
    "Account",
    "Command",
    "Config",
    "Fs",
    "Mcp",
    "Models",
    "Requester",
    "Review",
    "Skills",
    "Threads",
    "Turns",
    "attach_wrappers",
]

StrPath = str | os.PathLike[str]


class Requester(Protocol):
    """What the wrappers need from a client: :meth:`CodexClient.request`."""

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any: ...


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _fields(extra: Mapping[str, Any] | None = None, /, **given: Any) -> dict[str, Any]:
    """The given keywords under their camelCase names, ``None`` left out; ``extra`` last."""
    params = {_camel(name): value for name, value in given.items() if value is not None}
    if extra:
        params.update(extra)
    return params


def _true_or_none(flag: bool) -> Literal[True] | None:
    return True if flag else None


async def _pages(
    client: Requester, method: str, params: Mapping[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """Every page of a cursor-paged method, following ``nextCursor`` until it is null."""
    seen: set[str] = set()
    request = dict(params)
    while True:
        page: dict[str, Any] = await client.request(method, request)
        yield page
        cursor = page.get("nextCursor")
        if not isinstance(cursor, str) or not cursor:
            return
        if cursor in seen:
            raise CodexProtocolError(
                f"the server handed out cursor {cursor!r} twice; stopping instead of looping",
                code=0,
                method=method,
            )
        seen.add(cursor)
        request["cursor"] = cursor


async def _all_data(client: Requester, method: str, params: Mapping[str, Any]) -> list[Any]:
    data: list[Any] = []
    async for page in _pages(client, method, params):
        data.extend(page.get("data") or ())
    return data


class _Namespace:
    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


# ------------------------------------------------------------------------------------------
# Threads and turns


class Threads(_Namespace):
    """Thread methods (``thread/*``): create, resume, fork, read, page through, archive."""

    __slots__ = ()

    async def start(
        self,
        *,
        cwd: str | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        service_tier: str | None = None,
        approval_policy: AskForApproval | None = None,
        approvals_reviewer: ApprovalsReviewer | None = None,
        sandbox: SandboxMode | None = None,
        config: Mapping[str, Any] | None = None,
        base_instructions: str | None = None,
        developer_instructions: str | None = None,
        personality: Personality | None = None,
        ephemeral: bool | None = None,
        service_name: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ThreadStartResponse:
        """Start a new thread (``thread/start``) and subscribe this connection to it.

        ``sandbox`` is a mode string (``"read-only"``, ``"workspace-write"``,
        ``"danger-full-access"``); ``config`` holds config.toml overrides; ``extra`` adds raw
        params (e.g. experimental fields) as they are.

        Returns the ``ThreadStartResponse``: ``thread`` plus the effective ``model``, ``cwd``,
        ``approvalPolicy`` and ``sandbox``. Next: run turns on ``result["thread"]["id"]`` with
        ``client.chat(..., thread_id=...)``.
        """
        params = _fields(
            extra,
            cwd=cwd,
            model=model,
            model_provider=model_provider,
            service_tier=service_tier,
            approval_policy=approval_policy,
            approvals_reviewer=approvals_reviewer,
            sandbox=sandbox,
            config=config,
            base_instructions=base_instructions,
            developer_instructions=developer_instructions,
            personality=personality,
            ephemeral=ephemeral,
            service_name=service_name,
        )
        return await self._client.request("thread/start", params)

    async def resume(
        self,
        thread_id: str,
        *,
        exclude_turns: bool | None = None,
        cwd: str | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        service_tier: str | None = None,
        approval_policy: AskForApproval | None = None,
        approvals_reviewer: ApprovalsReviewer | None = None,
        sandbox: SandboxMode | None = None,
        config: Mapping[str, Any] | None = None,
        base_instructions: str | None = None,
        developer_instructions: str | None = None,
        personality: Personality | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ThreadResumeResponse:
        """Load a stored thread into this connection (``thread/resume``), with overrides.

        ``exclude_turns=True`` skips sending the whole history (page it with :meth:`turns`).

        Returns the ``ThreadResumeResponse`` (``thread`` and the effective settings). Next:
        run turns on it with ``client.chat(..., thread_id=thread_id)``.
        """
        params = _fields(
            extra,
            thread_id=thread_id,
            exclude_turns=exclude_turns,
            cwd=cwd,
            model=model,
            model_provider=model_provider,
            service_tier=service_tier,
            approval_policy=approval_policy,
            approvals_reviewer=approvals_reviewer,
            sandbox=sandbox,
            config=config,
            base_instructions=base_instructions,
            developer_instructions=developer_instructions,
            personality=personality,
        )
        return await self._client.request("thread/resume", params)

    async def fork(
        self,
        thread_id: str,
        *,
        last_turn_id: str | None = None,
        ephemeral: bool | None = None,
        exclude_turns: bool | None = None,
        cwd: str | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        service_tier: str | None = None,
        approval_policy: AskForApproval | None = None,
        approvals_reviewer: ApprovalsReviewer | None = None,
        sandbox: SandboxMode | None = None,
        config: Mapping[str, Any] | None = None,
        base_instructions: str | None = None,
        developer_instructions: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ThreadForkResponse:
        """Copy a thread into a new one (``thread/fork``), up to ``last_turn_id`` inclusive.

        Returns the ``ThreadForkResponse``: the new ``thread`` (its ``forkedFromId`` is
        ``thread_id``) and its settings. Next: run turns on ``result["thread"]["id"]``.
        """
        params = _fields(
            extra,
            thread_id=thread_id,
            last_turn_id=last_turn_id,
            ephemeral=ephemeral,
            exclude_turns=exclude_turns,
            cwd=cwd,
            model=model,
            model_provider=model_provider,
            service_tier=service_tier,
            approval_policy=approval_policy,
            approvals_reviewer=approvals_reviewer,
            sandbox=sandbox,
            config=config,
            base_instructions=base_instructions,
            developer_instructions=developer_instructions,
        )
        return await self._client.request("thread/fork", params)

    async def read(self, thread_id: str, *, include_turns: bool = False) -> Thread:
        """Read a thread without loading or subscribing to it (``thread/read``).

        ``include_turns=True`` fills ``thread["turns"]`` (refused for ephemeral threads and
        deprecated for paginated ones: prefer :meth:`turns`).

        Returns the ``Thread``. Next: page its history with :meth:`turns` or :meth:`items`.
        """
        params = _fields(thread_id=thread_id, include_turns=_true_or_none(include_turns))
        result = await self._client.request("thread/read", params)
        return result["thread"]

    async def list_page(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort_key: ThreadSortKey | None = None,
        sort_direction: SortDirection | None = None,
        archived: bool | None = None,
        cwd: str | Sequence[str] | None = None,
        search_term: str | None = None,
        model_providers: Sequence[str] | None = None,
        source_kinds: Sequence[str] | None = None,
        originators: Sequence[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ThreadListResponse:
        """One page of stored threads (``thread/list``), newest first by default.

        Returns the ``ThreadListResponse``: ``data`` (threads) and ``nextCursor``. Next: pass
        ``nextCursor`` as ``cursor`` for the next page until it is ``None``, or let
        :meth:`list` do that.
        """
        params = _fields(
            extra,
            cursor=cursor,
            limit=limit,
            sort_key=sort_key,
            sort_direction=sort_direction,
            archived=archived,
            cwd=cwd if cwd is None or isinstance(cwd, str) else [*cwd],
            search_term=search_term,
            model_providers=None if model_providers is None else [*model_providers],
            source_kinds=None if source_kinds is None else [*source_kinds],
            originators=None if originators is None else [*originators],
        )
        return await self._client.request("thread/list", params)

    async def list(
        self,
        *,
        limit: int | None = None,
        sort_key: ThreadSortKey | None = None,
        sort_direction: SortDirection | None = None,
        archived: bool | None = None,
        cwd: str | Sequence[str] | None = None,
        search_term: str | None = None,
        model_providers: Sequence[str] | None = None,
        source_kinds: Sequence[str] | None = None,
        originators: Sequence[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[Thread]:
        """Every stored thread matching the filters, across pages (``thread/list``).

        Use it as ``async for thread in client.threads.list(limit=50):``; ``limit`` is the
        page size. A page is fetched when the previous one is used up, following
        ``nextCursor`` until the server says there is no more. Archived threads are listed
        only with ``archived=True``; an empty ``source_kinds`` means interactive threads only.

        Yields each ``Thread``. Next: :meth:`read`, :meth:`resume` or :meth:`turns` on one.
        """
        params = _fields(
            extra,
            limit=limit,
            sort_key=sort_key,
            sort_direction=sort_direction,
            archived=archived,
            cwd=cwd if cwd is None or isinstance(cwd, str) else [*cwd],
            search_term=search_term,
            model_providers=None if model_providers is None else [*model_providers],
            source_kinds=None if source_kinds is None else [*source_kinds],
            originators=None if originators is None else [*originators],
        )
        async for page in _pages(self._client, "thread/list", params):
            for thread in page.get("data") or ():
                yield thread

    async def loaded_page(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> ThreadLoadedListResponse:
        """One page of the ids of threads loaded in the server (``thread/loaded/list``).

        Returns ``{"data": [ids], "nextCursor": ...}``. Next: pass ``nextCursor`` as
        ``cursor`` until it is ``None``, or use :meth:`loaded`.
        """
        return await self._client.request("thread/loaded/list", _fields(cursor=cursor, limit=limit))

    async def loaded(self, *, limit: int | None = None) -> Sequence[str]:
        """The ids of all threads loaded in the server's memory (``thread/loaded/list``).

        Follows every page (``limit`` is the page size). Returns a list of thread ids. Next:
        :meth:`read` one, or :meth:`unsubscribe` from those this connection no longer needs.
        """
        return await _all_data(self._client, "thread/loaded/list", _fields(limit=limit))

    async def archive(self, thread_id: str) -> None:
        """Archive a thread (``thread/archive``): it leaves the default :meth:`list`.

        Returns nothing; the server then emits ``thread/archived``. Next: :meth:`unarchive`
        brings it back; list archived threads with ``list(archived=True)``.
        """
        await self._client.request("thread/archive", {"threadId": thread_id})

    async def unarchive(self, thread_id: str) -> Thread:
        """Bring an archived thread back (``thread/unarchive``).

        Returns the ``Thread``. Next: :meth:`resume` it or run a turn on it.
        """
        result = await self._client.request("thread/unarchive", {"threadId": thread_id})
        return result["thread"]

    async def delete(self, thread_id: str) -> None:
        """Delete a thread for good, with the threads it spawned (``thread/delete``).

        Returns nothing; the server emits ``thread/deleted``. There is no undo.
        """
        await self._client.request("thread/delete", {"threadId": thread_id})

    async def set_name(self, thread_id: str, name: str) -> None:
        """Name a thread (``thread/name/set``).

        Returns nothing; the server emits ``thread/name/updated``. Next: the name shows in
        ``thread["name"]`` of :meth:`read` and :meth:`list`.
        """
        await self._client.request("thread/name/set", {"threadId": thread_id, "name": name})

    async def compact(self, thread_id: str) -> None:
        """Compact a thread's context (``thread/compact/start``).

        Returns as soon as the server accepted; the compaction then runs as a turn
        (``turn/started``, a ``contextCompaction`` item, ``turn/completed``). Next: wait for
        that ``turn/completed`` via ``client.on_notification`` before starting a new turn.
        """
        await self._client.request("thread/compact/start", {"threadId": thread_id})

    async def unsubscribe(self, thread_id: str) -> ThreadUnsubscribeStatus:
        """Stop receiving a thread's events on this connection (``thread/unsubscribe``).

        Returns the status: ``"unsubscribed"``, ``"notSubscribed"`` or ``"notLoaded"``. The
        server unloads the thread once nobody is subscribed and it has been idle a while.
        """
        result = await self._client.request("thread/unsubscribe", {"threadId": thread_id})
        return result["status"]

    async def turns_page(
        self,
        thread_id: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        sort_direction: SortDirection | None = None,
        items_view: TurnItemsView | None = None,
    ) -> ThreadTurnsListResponse:
        """One page of a thread's turns (``thread/turns/list``), newest first by default.

        ``items_view`` picks how much of each turn's items come along (``"notLoaded"``,
        ``"summary"``, the default, or ``"full"``). Returns ``data`` (turns) and
        ``nextCursor``. Next: pass ``nextCursor`` as ``cursor`` until it is ``None``.
        """
        params = _fields(
            thread_id=thread_id,
            cursor=cursor,
            limit=limit,
            sort_direction=sort_direction,
            items_view=items_view,
        )
        return await self._client.request("thread/turns/list", params)

    async def turns(
        self,
        thread_id: str,
        *,
        limit: int | None = None,
        sort_direction: SortDirection | None = None,
        items_view: TurnItemsView | None = None,
    ) -> AsyncIterator[Turn]:
        """Every turn of a thread, across pages (``thread/turns/list``).

        ``async for turn in client.threads.turns(thread_id, sort_direction="asc"):``;
        ``limit`` is the page size. Yields each ``Turn``. Next: :meth:`items` for the full
        items of one turn.
        """
        params = _fields(
            thread_id=thread_id, limit=limit, sort_direction=sort_direction, items_view=items_view
        )
        async for page in _pages(self._client, "thread/turns/list", params):
            for turn in page.get("data") or ():
                yield turn

    async def items_page(
        self,
        thread_id: str,
        *,
        turn_id: str | None = None,
        cursor: ThreadItemsListCursor | None = None,
        limit: int | None = None,
        sort_direction: SortDirection | None = None,
    ) -> ThreadItemsListResponse:
        """One page of a thread's items (``thread/items/list``), optionally of one turn.

        Returns ``data`` (entries ``{turnId, item, startedAtMs, completedAtMs}``) and
        ``nextCursor``. Next: pass ``nextCursor`` as ``cursor`` until it is ``None``.
        """
        params = _fields(
            thread_id=thread_id,
            turn_id=turn_id,
            cursor=cursor,
            limit=limit,
            sort_direction=sort_direction,
        )
        return await self._client.request("thread/items/list", params)

    async def items(
        self,
        thread_id: str,
        *,
        turn_id: str | None = None,
        limit: int | None = None,
        sort_direction: SortDirection | None = None,
    ) -> AsyncIterator[ThreadItemEntry]:
        """Every item of a thread (or of one turn), across pages (``thread/items/list``).

        Yields entries ``{"turnId", "item", "startedAtMs", "completedAtMs"}``; ``limit`` is
        the page size. Some thread stores do not page items and answer ``-32601``.
        """
        params = _fields(
            thread_id=thread_id, turn_id=turn_id, limit=limit, sort_direction=sort_direction
        )
        async for page in _pages(self._client, "thread/items/list", params):
            for entry in page.get("data") or ():
                yield entry


class Turns(_Namespace):
    """Raw turn methods: start without waiting, steer, interrupt.

    ``client.chat`` / ``client.chat_once`` start a turn *and* follow it; use these when you
    follow the events yourself (``client.on_notification``).
    """

    __slots__ = ()

    async def start(
        self,
        thread_id: str,
        text: str,
        *,
        images: Sequence[str] = (),
        local_images: Sequence[StrPath] = (),
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Turn:
        """Start a turn on a loaded thread (``turn/start``) and return at once.

        ``options`` are the turn options of ``client.chat`` (``model``, ``effort``, ``cwd``,
        ``approval_policy``, ``sandbox_policy``, ``output_schema``, ...); ``extra`` adds raw
        params as they are. If the thread has a running turn, the server steers the input
        into it instead and returns that turn.

        Returns the ``Turn`` (``status: "inProgress"``). Next: follow its events with
        ``client.on_notification`` (they carry its ``id``), :meth:`steer` or
        :meth:`interrupt` it, and read it back with ``client.threads.turns(...)``.

        Raises:
            TypeError: an unknown turn option.
        """
        from ._turn_options import turn_params

        params = {"threadId": thread_id, **turn_params(text, images, local_images, options)}
        if extra:
            params.update(extra)
        result = await self._client.request("turn/start", params)
        return result["turn"]

    async def steer(
        self,
        thread_id: str,
        expected_turn_id: str,
        text: str,
        *,
        images: Sequence[str] = (),
        local_images: Sequence[StrPath] = (),
        client_user_message_id: str | None = None,
    ) -> str:
        """Add input to the running turn ``expected_turn_id`` (``turn/steer``).

        Fails with a ``CodexProtocolError`` (-32600) when that turn is not the thread's
        running one, or when the running turn cannot be steered (a review or compaction).

        Returns the id of the turn that took the input. Next: keep following that turn.
        """
        from ._turn_options import turn_params

        options = {"client_user_message_id": client_user_message_id}
        params = {
            "threadId": thread_id,
            "expectedTurnId": expected_turn_id,
            **turn_params(text, images, local_images, options),
        }
        result = await self._client.request("turn/steer", params)
        return str(result["turnId"])

    async def interrupt(self, thread_id: str, turn_id: str) -> None:
        """Ask the server to stop a running turn (``turn/interrupt``).

        Returns once the server accepted; the turn then ends with ``turn/completed`` and
        ``status: "interrupted"``. Fails with a ``CodexProtocolError`` if no turn is running.
        For a turn started with ``client.chat``, use ``client.cancel(continuation)`` instead.
        """
        await self._client.request("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})


class Review(_Namespace):
    """``review/start``: run a code review as a turn."""

    __slots__ = ()

    async def start(
        self,
        thread_id: str,
        target: ReviewTarget,
        *,
        delivery: ReviewDelivery | None = None,
    ) -> ReviewStartResponse:
        """Start a review turn on a thread (``review/start``).

        ``target`` is ``{"type": "uncommittedChanges"}``, ``{"type": "baseBranch", "branch":
        ...}``, ``{"type": "commit", "sha": ...}`` or ``{"type": "custom", "instructions":
        ...}``.

        Returns ``{"turn", "reviewThreadId"}``. Next: follow the turn's events
        (``enteredReviewMode``, ``exitedReviewMode`` items, a final ``agentMessage``) with
        ``client.on_notification``, or read them back with ``client.threads.turns``.
        """
        params = _fields(thread_id=thread_id, target=target, delivery=delivery)
        return await self._client.request("review/start", params)


# ------------------------------------------------------------------------------------------
# Models, account, config


class Models(_Namespace):
    """``model/list``: the models the server offers."""

    __slots__ = ()

    async def list_page(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        include_hidden: bool | None = None,
    ) -> ModelListResponse:
        """One page of models (``model/list``).

        Returns ``data`` (``Model`` objects) and ``nextCursor``. Next: pass ``nextCursor`` as
        ``cursor`` until it is ``None``, or use :meth:`list`.
        """
        params = _fields(cursor=cursor, limit=limit, include_hidden=include_hidden)
        return await self._client.request("model/list", params)

    async def list(
        self, *, include_hidden: bool | None = None, limit: int | None = None
    ) -> Sequence[Model]:
        """Every model the server offers, across pages (``model/list``).

        Returns the ``Model`` objects (``id``, ``displayName``, ``isDefault``,
        ``supportedReasoningEfforts``, ...). Next: pass a model's ``id`` as ``model=`` to
        ``client.chat`` or ``client.threads.start``.
        """
        params = _fields(include_hidden=include_hidden, limit=limit)
        return await _all_data(self._client, "model/list", params)


class Account(_Namespace):
    """``account/*``: who is logged in, rate limits, login and logout."""

    __slots__ = ()

    async def read(self, *, refresh_token: bool | None = None) -> GetAccountResponse:
        """The current account (``account/read``).

        Returns ``{"account": ... or None, "requiresOpenaiAuth": bool}``. Next: when
        ``account`` is ``None`` and auth is required, :meth:`login_start`.
        """
        return await self._client.request("account/read", _fields(refresh_token=refresh_token))

    async def rate_limits(
        self,
        *,
        exclude_reset_credit_details: bool | None = None,
        supports_luna_reserve: bool | None = None,
    ) -> GetAccountRateLimitsResponse:
        """The account's current rate limits (``account/rateLimits/read``).

        Returns ``{"rateLimits": {...}, "rateLimitsByLimitId": ...}``; needs a ChatGPT login
        (an API key or a custom provider gets a ``CodexProtocolError``). Next: updates then
        arrive as ``account/rateLimits/updated`` notifications.
        """
        params = _fields(
            exclude_reset_credit_details=exclude_reset_credit_details,
            supports_luna_reserve=supports_luna_reserve,
        )
        return await self._client.request("account/rateLimits/read", params)

    async def login_start(
        self,
        kind: Literal["apiKey", "chatgpt", "chatgptDeviceCode"] | str = "chatgpt",
        *,
        api_key: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> LoginAccountResponse:
        """Begin a login (``account/login/start``) of the given ``kind``.

        ``kind="apiKey"`` needs ``api_key`` and completes at once; ``"chatgpt"`` answers with
        an ``authUrl`` to open in a browser; ``"chatgptDeviceCode"`` with a
        ``verificationUrl`` and a ``userCode``. ``extra`` adds other fields of the login
        params as they are.

        Returns the ``LoginAccountResponse`` (``type``, and ``loginId`` for the browser
        flows). Next: wait for ``account/login/completed``, or :meth:`login_cancel` it.

        Raises:
            ValueError: ``kind="apiKey"`` without ``api_key``.
        """
        if kind == "apiKey" and not api_key:
            raise ValueError('login_start("apiKey") needs api_key=')
        params = _fields(extra, type=kind, api_key=api_key)
        return await self._client.request("account/login/start", params)

    async def login_cancel(self, login_id: str) -> CancelLoginAccountResponse:
        """Cancel a login in progress (``account/login/cancel``).

        Returns ``{"status": "canceled"}`` or ``{"status": "notFound"}``.
        """
        return await self._client.request("account/login/cancel", {"loginId": login_id})

    async def logout(self) -> None:
        """Log out (``account/logout``).

        Returns nothing; the server emits ``account/updated``. Next: :meth:`read` shows no
        account.
        """
        await self._client.request("account/logout")


class Config(_Namespace):
    """``config/*``: read the effective configuration and write config.toml values."""

    __slots__ = ()

    async def read(
        self, *, include_layers: bool | None = None, cwd: str | None = None
    ) -> ConfigReadResponse:
        """The effective configuration (``config/read``), as seen from ``cwd`` if given.

        Returns ``{"config": {...snake_case keys...}, "origins": {...}, "layers": ...}``
        (``layers`` only with ``include_layers=True``). Next: change a value with
        :meth:`write_value`.
        """
        return await self._client.request(
            "config/read", _fields(include_layers=include_layers, cwd=cwd)
        )

    async def write_value(
        self,
        key_path: str,
        value: Any,
        merge_strategy: MergeStrategy = "replace",
        *,
        file_path: str | None = None,
        expected_version: str | None = None,
    ) -> ConfigWriteResponse:
        """Write one value into config.toml (``config/value/write``).

        ``key_path`` is dotted (``"model"``, ``"tools.web_search"``); ``merge_strategy``
        ``"upsert"`` merges tables instead of replacing them; ``expected_version`` makes the
        write fail if the file changed since that version was read.

        Returns ``{"status": "ok"|"okOverridden", "version", "filePath", ...}``. Next: new
        threads see the value; :meth:`read` shows it.
        """
        params = _fields(
            key_path=key_path,
            merge_strategy=merge_strategy,
            file_path=file_path,
            expected_version=expected_version,
        )
        params["value"] = value  # sent even when None: that is a value to write
        return await self._client.request("config/value/write", params)

    async def batch_write(
        self,
        edits: Sequence[ConfigEdit],
        *,
        file_path: str | None = None,
        expected_version: str | None = None,
        reload_user_config: bool | None = None,
    ) -> ConfigWriteResponse:
        """Write several values at once (``config/batchWrite``).

        Each edit is ``{"keyPath": ..., "value": ..., "mergeStrategy": "replace"|"upsert"}``;
        ``reload_user_config=True`` also applies runtime settings to loaded threads.

        Returns ``{"status", "version", "filePath", ...}`` as for :meth:`write_value`.
        """
        params = _fields(
            edits=[dict(edit) for edit in edits],
            file_path=file_path,
            expected_version=expected_version,
            reload_user_config=reload_user_config,
        )
        return await self._client.request("config/batchWrite", params)


# ------------------------------------------------------------------------------------------
# Commands, files, skills, MCP


class Command(_Namespace):
    """``command/exec`` and its companions: run a command outside any thread."""

    __slots__ = ()

    async def exec(
        self,
        command: Sequence[str],
        *,
        process_id: str | None = None,
        cwd: str | None = None,
        env: Mapping[str, str | None] | None = None,
        sandbox_policy: SandboxPolicy | None = None,
        timeout_ms: int | None = None,
        disable_timeout: bool | None = None,
        output_bytes_cap: int | None = None,
        disable_output_cap: bool | None = None,
        tty: bool | None = None,
        stream_stdin: bool | None = None,
        stream_stdout_stderr: bool | None = None,
        size: tuple[int, int] | None = None,
        timeout: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CommandExecResponse:
        """Run ``command`` (an argv list) in the server's sandbox (``command/exec``).

        The answer comes when the process exits, so give ``timeout`` (seconds to wait for
        it; the client's request timeout by default) for long commands; ``timeout_ms`` is
        the server's own limit on the process. ``env`` values of ``None`` unset a variable.
        To talk to the process while it runs, pass a ``process_id`` (and ``stream_stdin``,
        ``tty``, ``size=(rows, cols)``), run this call in a task, and use :meth:`write`,
        :meth:`resize`, :meth:`terminate`; streamed output arrives as
        ``command/exec/outputDelta`` notifications.

        Returns ``{"exitCode", "stdout", "stderr"}`` (streams that were streamed are empty).

        Raises:
            TypeError: ``command`` is a single string instead of an argv list.
        """
        if isinstance(command, str):
            raise TypeError(
                "command is an argv list, e.g. ['echo', 'hi']; to run a shell line pass "
                "['sh', '-c', line]"
            )
        params = _fields(
            extra,
            command=[*command],
            process_id=process_id,
            cwd=cwd,
            env=None if env is None else dict(env),
            sandbox_policy=sandbox_policy,
            timeout_ms=timeout_ms,
            disable_timeout=disable_timeout,
            output_bytes_cap=output_bytes_cap,
            disable_output_cap=disable_output_cap,
            tty=tty,
            stream_stdin=stream_stdin,
            stream_stdout_stderr=stream_stdout_stderr,
            size=None if size is None else {"rows": size[0], "cols": size[1]},
        )
        return await self._client.request("command/exec", params, timeout=timeout)

    async def write(
        self, process_id: str, data: bytes | None = None, *, close_stdin: bool = False
    ) -> None:
        """Write bytes to a running command's stdin and/or close it (``command/exec/write``).

        The command must have been started with this ``process_id`` and
        ``stream_stdin=True``; ``data`` is base64-encoded for the wire here.
        """
        params = _fields(
            process_id=process_id,
            delta_base64=None if data is None else base64.b64encode(data).decode("ascii"),
            close_stdin=_true_or_none(close_stdin),
        )
        await self._client.request("command/exec/write", params)

    async def resize(self, process_id: str, *, rows: int, cols: int) -> None:
        """Resize a running command's terminal (``command/exec/resize``; ``tty=True`` only)."""
        params = {"processId": process_id, "size": {"rows": rows, "cols": cols}}
        await self._client.request("command/exec/resize", params)

    async def terminate(self, process_id: str) -> None:
        """Kill a running command (``command/exec/terminate``).

        Returns once the server accepted; the pending :meth:`exec` call then returns with the
        process's exit code.
        """
        await self._client.request("command/exec/terminate", {"processId": process_id})


class Fs(_Namespace):
    """``fs/*``: files on the server's machine. Paths must be absolute."""

    __slots__ = ()

    async def read_file(self, path: StrPath) -> bytes:
        """A file's content (``fs/readFile``), decoded from the wire's base64."""
        result = await self._client.request("fs/readFile", {"path": os.fspath(path)})
        return base64.b64decode(result["dataBase64"])

    async def write_file(self, path: StrPath, data: bytes) -> None:
        """Create or replace a file with ``data`` (``fs/writeFile``); base64 is done here."""
        params = {"path": os.fspath(path), "dataBase64": base64.b64encode(data).decode("ascii")}
        await self._client.request("fs/writeFile", params)

    async def create_directory(self, path: StrPath, *, recursive: bool | None = None) -> None:
        """Create a directory (``fs/createDirectory``), with its parents if ``recursive``."""
        params = _fields(path=os.fspath(path), recursive=recursive)
        await self._client.request("fs/createDirectory", params)

    async def metadata(self, path: StrPath) -> FsGetMetadataResponse:
        """What a path is (``fs/getMetadata``).

        Returns ``{"isFile", "isDirectory", "isSymlink", "createdAtMs", "modifiedAtMs"}``.
        """
        return await self._client.request("fs/getMetadata", {"path": os.fspath(path)})

    async def read_directory(self, path: StrPath) -> Sequence[FsReadDirectoryEntry]:
        """A directory's entries (``fs/readDirectory``).

        Returns entries ``{"fileName", "isFile", "isDirectory"}`` in the server's order.
        """
        result = await self._client.request("fs/readDirectory", {"path": os.fspath(path)})
        return result["entries"]

    async def remove(
        self, path: StrPath, *, recursive: bool | None = None, force: bool | None = None
    ) -> None:
        """Remove a file or directory (``fs/remove``); ``recursive`` for non-empty ones,
        ``force`` to ignore a missing path."""
        params = _fields(path=os.fspath(path), recursive=recursive, force=force)
        await self._client.request("fs/remove", params)

    async def copy(
        self, source: StrPath, destination: StrPath, *, recursive: bool | None = None
    ) -> None:
        """Copy a file, or a directory with ``recursive=True`` (``fs/copy``)."""
        params = _fields(
            source_path=os.fspath(source),
            destination_path=os.fspath(destination),
            recursive=recursive,
        )
        await self._client.request("fs/copy", params)


class Skills(_Namespace):
    """``skills/list``: the skills available to threads."""

    __slots__ = ()

    async def list(
        self, *, cwds: Sequence[str] | None = None, force_reload: bool | None = None
    ) -> Sequence[SkillsListEntry]:
        """The skills for each working directory (``skills/list``).

        ``cwds`` defaults to the server's working directory; ``force_reload`` rescans disk.
        Returns one entry per directory: ``{"cwd", "skills", "errors"}``. Next: use a skill
        in a turn by naming it (``$name``) in the text.
        """
        params = _fields(cwds=None if cwds is None else [*cwds], force_reload=force_reload)
        result = await self._client.request("skills/list", params)
        return result["data"]


class Mcp(_Namespace):
    """``mcpServerStatus/list``: the configured MCP servers and their tools."""

    __slots__ = ()

    async def server_status_page(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        detail: McpServerStatusDetail | None = None,
        server_name: str | None = None,
        thread_id: str | None = None,
    ) -> ListMcpServerStatusResponse:
        """One page of MCP server statuses (``mcpServerStatus/list``).

        Returns ``data`` and ``nextCursor``; pass ``nextCursor`` as ``cursor`` until ``None``.
        """
        params = _fields(
            cursor=cursor,
            limit=limit,
            detail=detail,
            server_name=server_name,
            thread_id=thread_id,
        )
        return await self._client.request("mcpServerStatus/list", params)

    async def server_status(
        self,
        *,
        detail: McpServerStatusDetail | None = None,
        server_name: str | None = None,
        thread_id: str | None = None,
        limit: int | None = None,
    ) -> Sequence[McpServerStatus]:
        """Every configured MCP server's status, across pages (``mcpServerStatus/list``).

        ``detail="toolsAndAuthOnly"`` skips resources; ``server_name`` asks about one server.
        Returns entries ``{"name", "authStatus", "tools", "resources", ...}``.
        """
        params = _fields(detail=detail, server_name=server_name, thread_id=thread_id, limit=limit)
        return await _all_data(self._client, "mcpServerStatus/list", params)


_NAMESPACES: dict[str, type[_Namespace]] = {
    "threads": Threads,
    "turns": Turns,
    "review": Review,
    "models": Models,
    "account": Account,
    "config": Config,
    "command": Command,
    "fs": Fs,
    "skills": Skills,
    "mcp": Mcp,
}


def attach_wrappers(client: Requester) -> None:
    """Set ``client.threads``, ``client.turns``, ... (one namespace each) on ``client``."""
    for name, namespace in _NAMESPACES.items():
        setattr(client, name, namespace(client))
