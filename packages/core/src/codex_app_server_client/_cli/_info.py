"""``ping``, ``transports``, ``threads list``, ``threads read`` and ``models``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _render
from ._exit import EXIT_OK

if TYPE_CHECKING:
    from ._context import Context


async def run_ping(ctx: Context) -> int:
    """Connect, perform the handshake and print what the server reports."""
    console = ctx.console
    async with ctx.open_client() as client:
        info = client.initialize_result
        if console.json_mode:
            console.event("connected", url=ctx.args.url, initialize=info)
            return EXIT_OK
        console.out(f"connected to {ctx.args.url}")
        console.out(f"  userAgent:   {info.get('userAgent')}")
        console.out(f"  codexHome:   {info.get('codexHome')}")
        console.out(f"  platform:    {info.get('platformFamily')}/{info.get('platformOs')}")
    return EXIT_OK


def run_transports(ctx: Context) -> int:
    """List the installed transports and their URL schemes."""
    from ..plugins import default_plugin_manager

    console = ctx.console
    seen: set[str] = set()
    for spec in default_plugin_manager().transport_specs():
        if spec.name in seen:
            continue
        seen.add(spec.name)
        if console.json_mode:
            console.event(
                "transport", name=spec.name, schemes=list(spec.schemes), summary=spec.summary
            )
        else:
            schemes = ", ".join(f"{s}://" for s in spec.schemes)
            console.out(f"{spec.name:<10} {schemes:<20} {spec.summary}")
    if not seen:
        console.note("no transport installed: pip install 'codex-app-server-client[all]'")
    return EXIT_OK


async def run_threads_list(ctx: Context) -> int:
    """Print the stored threads, newest first, up to ``--limit``."""
    console = ctx.console
    limit: int = ctx.args.limit
    count = 0
    async with ctx.open_client() as client:
        cursor: str | None = None
        while count < limit:
            page = await client.threads.list_page(
                cursor=cursor, limit=min(limit - count, 100), archived=ctx.args.archived or None
            )
            for thread in (page.get("data") or [])[: limit - count]:
                raw: dict[str, Any] = dict(thread)
                if console.json_mode:
                    console.event("thread", thread=raw)
                else:
                    console.out(_render.thread_line(raw))
                count += 1
            next_cursor = page.get("nextCursor")
            if not next_cursor or next_cursor == cursor:
                break
            cursor = next_cursor
    if count == 0 and not console.json_mode:
        console.note('codex-client: no threads yet; start one with: codex-client chat "..."')
    return EXIT_OK


async def run_threads_read(ctx: Context) -> int:
    """Print one thread: its summary, then each turn with its items, oldest first."""
    console = ctx.console
    thread_id: str = ctx.args.thread_id
    async with ctx.open_client() as client:
        thread: dict[str, Any] = dict(await client.threads.read(thread_id))
        turns: list[dict[str, Any]] = []
        async for turn in client.threads.turns(thread_id, sort_direction="asc", items_view="full"):
            turns.append(dict(turn))
    if console.json_mode:
        console.event("thread", thread={**thread, "turns": turns})
        return EXIT_OK
    title = thread.get("name") or thread.get("preview") or ""
    console.out(f"thread {thread.get('id', thread_id)}  {_render.one_line(title)}")
    console.out(
        f"  updated {_render.when(thread.get('updatedAt'))}, cwd {thread.get('cwd', '-')}, "
        f"model {thread.get('model') or '-'} ({thread.get('modelProvider') or '-'})"
    )
    for turn in turns:
        console.out(_render.turn_header(turn))
        for item in turn.get("items") or ():
            if not isinstance(item, dict):
                continue
            raw: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
            lines = (
                _render.user_lines(raw)
                if raw.get("type") == "userMessage"
                else _render.item_lines(raw)
            )
            for line in lines:
                console.out(line)
    if not turns:
        console.out("(no turns)")
    return EXIT_OK


async def run_models(ctx: Context) -> int:
    """Print the models the server offers."""
    console = ctx.console
    async with ctx.open_client() as client:
        models = await client.models.list(include_hidden=ctx.args.all or None)
    for model in models:
        raw: dict[str, Any] = dict(model)
        if console.json_mode:
            console.event("model", model=raw)
        else:
            console.out(_render.model_line(raw))
    return EXIT_OK
