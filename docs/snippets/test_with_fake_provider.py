# tests/test_summariser.py: the real codex binary, offline, with scripted model replies.
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_app_server_client import CodexClient, CodexTurnFailedError
from codex_app_server_client.testing import FakeResponsesProvider, write_codex_home
from codex_app_server_client.testing.fake_provider import http_error, text

pytestmark = pytest.mark.anyio  # anyio's pytest plugin runs the async tests


@pytest.fixture
def provider() -> Iterator[FakeResponsesProvider]:
    with FakeResponsesProvider() as fake:  # listens on 127.0.0.1, a free port
        yield fake


@pytest.fixture
def codex_env(provider: FakeResponsesProvider, tmp_path: Path) -> dict[str, str]:
    # Written before codex starts: its only model provider is the fake one.
    return write_codex_home(tmp_path / "codex-home", provider_url=provider.base_url)


async def test_the_answer_is_the_models_final_message(
    provider: FakeResponsesProvider, codex_env: dict[str, str], tmp_path: Path
) -> None:
    provider.enqueue(text("Three files.", deltas=["Three", " files."]))
    async with CodexClient("stdio://", env=codex_env, cwd=str(tmp_path)) as client:
        result = await client.chat_once("How many files are there?")
    assert result.final_text == "Three files."
    assert provider.requests[0].input_texts()[-1] == "How many files are there?"


async def test_a_model_outage_fails_the_turn(
    provider: FakeResponsesProvider, codex_env: dict[str, str], tmp_path: Path
) -> None:
    provider.enqueue(http_error(500))
    async with CodexClient("stdio://", env=codex_env, cwd=str(tmp_path)) as client:
        with pytest.raises(CodexTurnFailedError) as failure:
            await client.chat_once("Anyone there?")
    assert failure.value.error_info == "internalServerError"
