"""The committed wire types match what the pinned codex binary's schema generates."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from codex_app_server_client import types

SCRIPT = Path(__file__).resolve().parents[2] / "packages/core/scripts/generate_types.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_types", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    return generator.dump_pinned(tmp_path_factory.mktemp("schema"))


def test_committed_types_match_the_pinned_binary(schemas: tuple[Path, Path, str]) -> None:
    stable, experimental, version = schemas
    assert generator.check_drift(stable, experimental, version) == []
    assert version == types.GENERATED_FROM


def test_a_changed_schema_is_reported_by_type_name(
    schemas: tuple[Path, Path, str], tmp_path: Path
) -> None:
    stable, experimental, _ = schemas
    changed = tmp_path / "stable"
    shutil.copytree(stable, changed)
    bundle_path = changed / "codex_app_server_protocol.schemas.json"
    bundle = json.loads(bundle_path.read_text())
    definitions = bundle["definitions"]["v2"]
    del definitions["ThreadListParams"]["properties"]["limit"]
    bundle_path.write_text(json.dumps(bundle))

    problems = generator.check_drift(changed, experimental)

    assert "_generated.py: changed ThreadListParams" in problems
    # limit is gone from the stable params but still in the experimental ones.
    assert problems == [
        "_generated.py: changed ThreadListParams",
        "_methods.py: changed EXPERIMENTAL_FIELDS",
    ]


def test_every_stable_client_method_has_an_overload(schemas: tuple[Path, Path, str]) -> None:
    stable, _, _ = schemas
    client_request = json.loads((stable / "ClientRequest.json").read_text())
    methods = [v["properties"]["method"]["enum"][0] for v in client_request["oneOf"]]
    source = Path(types.__file__).with_name("_requests.py").read_text()

    missing = [m for m in methods if f'method: Literal["{m}"]' not in source]

    assert missing == []
    assert set(methods) == set(types.CLIENT_REQUESTS)


def test_experimental_methods_and_fields(schemas: tuple[Path, Path, str]) -> None:
    _, experimental, _ = schemas
    client_request = json.loads((experimental / "ClientRequest.json").read_text())
    methods = {v["properties"]["method"]["enum"][0] for v in client_request["oneOf"]}

    assert methods - set(types.CLIENT_REQUESTS) == types.EXPERIMENTAL_METHODS
    if "collaborationMode/list" in methods:
        assert "collaborationMode/list" in types.EXPERIMENTAL_METHODS
    assert not types.EXPERIMENTAL_METHODS & set(types.CLIENT_REQUESTS)
    for method, fields in types.EXPERIMENTAL_FIELDS.items():
        assert method in types.CLIENT_REQUESTS
        assert fields


def test_tables_name_generated_types() -> None:
    tables = [
        types.CLIENT_REQUESTS,
        types.CLIENT_RESPONSES,
        types.SERVER_REQUESTS,
        types.SERVER_REQUEST_RESPONSES,
        types.SERVER_NOTIFICATIONS,
    ]
    names = {name for table in tables for name in table.values() if name is not None}

    assert names <= set(types.__all__)
    assert types.CLIENT_REQUESTS["thread/list"] == "ThreadListParams"
    assert types.CLIENT_RESPONSES["thread/list"] == "ThreadListResponse"


def test_notification_params_returns_the_params_untouched() -> None:
    from codex_app_server_client.protocol import Notification

    note = Notification("turn/completed", {"threadId": "t", "extra": 1})

    assert types.notification_params(note, "turn/completed") is note.params
    with pytest.raises(ValueError, match="turn/started"):
        types.notification_params(note, "turn/started")


def test_enums_are_open_where_only_the_server_sends_them(schemas: tuple[Path, Path, str]) -> None:
    stable, experimental, _ = schemas
    definitions = generator.load_definitions(stable)
    tables = generator.build_tables(definitions, generator.load_definitions(experimental))

    classes = generator.classify_enums(definitions, tables)

    # Sent only by the server (results, notifications): open.
    assert {"TurnStatus", "CommandExecOutputStream", "CodexErrorInfo"} <= classes.open
    # Sent by the client too (ThreadStartParams.sandbox, ...): closed.
    assert {"SandboxMode", "AskForApproval"} <= classes.shared
    # Sent only by the client (a server request's answer, a sort order): closed.
    assert {"ReviewDecision", "SortDirection"} <= classes.client
    # Tags of McpElicitationPrimitiveSchema's variants: closed, so narrowing on them works.
    assert "McpElicitationStringType" in classes.tags
    groups: list[frozenset[str]] = [
        classes.open,
        classes.shared,
        classes.client,
        classes.tags,
        classes.unreachable,
    ]
    assert sum(map(len, groups)) == len(frozenset[str]().union(*groups))  # disjoint


def test_open_enums_admit_other_strings_in_the_generated_source() -> None:
    source = Path(types.__file__).with_name("_generated.py").read_text()
    turn_status = '"completed", "interrupted", "failed", "inProgress"'
    sandbox_mode = '"read-only", "workspace-write", "danger-full-access"'

    assert f"TurnStatus: TypeAlias = Literal[{turn_status}] | str\n" in source
    assert 'Known values; the server may send others.\n"""\n\n\nclass TurnSteerResponse' in source
    assert f"SandboxMode: TypeAlias = Literal[{sandbox_mode}]\n" in source
