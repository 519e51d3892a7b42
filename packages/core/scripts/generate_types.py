"""Generate ``codex_app_server_client.types`` from the pinned codex binary's JSON Schema.

Usage (from the workspace root)::

    nox -s generate                                          # the usual way
    uv run python packages/core/scripts/generate_types.py    # the same, in the dev venv
    uv run python packages/core/scripts/generate_types.py --check   # report drift, exit 1

Steps: ``codex app-server generate-json-schema`` (stable, and ``--experimental`` into a second
directory) into a temporary directory; flatten its definitions (the v1 top level and the
``v2`` namespace) into one schema; drop ``additionalProperties: false`` (parsing stays
lenient, and ``closed=True`` TypedDicts need ``typing_extensions`` on 3.11); open the
server-only enums (below); run datamodel-code-generator to TypedDicts; post-process
(``typing`` imports, header); then render the method tables (``_methods.py``), the typed
``request`` overloads (``_requests.py``) and ``__init__.py`` from the message unions; finally
ruff formats everything.

Open enums. Every string enum definition becomes a ``Literal[...]`` alias, and the protocol
adds values every few weeks. So :func:`classify_enums` follows ``$ref`` from the roots of
each direction: server -> client (client request results, server request params,
notification params) and client -> server (client request params, the results the client
answers server requests with). An enum only the server sends is opened, ``Literal[...] | str``
(``| str | dict[str, Any]`` when its variants also include objects, like ``CodexErrorInfo``),
its docstring saying "Known values; the server may send others." An enum the client sends,
alone or as well (``SandboxMode``, ``AskForApproval``), stays closed so a typo in params is
still caught; a shared one says so in its docstring. Also closed: enums that tag a union's
variants (opening them would stop narrowing on the tag) and enums no method reaches.

:func:`check_drift` regenerates from a schema directory in memory and compares the result to
the committed files; ``tests/types/test_generated_types.py`` runs it against the pinned binary.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[3]
TYPES_DIR = ROOT / "packages/core/src/codex_app_server_client/types"
SCRIPT = "packages/core/scripts/generate_types.py"

GENERATED = "_generated.py"
METHODS = "_methods.py"
REQUESTS = "_requests.py"
INIT = "__init__.py"

# datamodel-code-generator names union variants by their tag; the few unions without a tag
# get numbered names (``ResourceContent1``). Name them here instead (generated name -> ours).
# A key that no longer appears is reported as an error, so a schema change cannot slip by.
MODEL_NAME_MAP: dict[str, str] = {
    "ResourceContent1": "TextResourceContents",
    "ResourceContent2": "BlobResourceContents",
    "NetworkPolicyAmendment1": "NetworkPolicyAmendmentReviewDecisionBody",
    "McpServerElicitationRequestParams1": "McpServerElicitationFormRequestParams",
    "McpServerElicitationRequestParams2": "McpServerElicitationOpenaiSlashFormRequestParams",
    "McpServerElicitationRequestParams3": "McpServerElicitationOpenaiFormRequestParams",
    "McpServerElicitationRequestParams4": "McpServerElicitationUrlRequestParams",
}

# Result types the naming convention (XParams -> XResponse, method path -> XResponse) misses.
# Each is used only while the schema still defines it; otherwise the result is dict[str, Any].
RESPONSE_OVERRIDES: dict[str, str] = {
    "account/gatewayOAuth/read": "GatewayOAuthReadResponse",
    "account/gatewayOAuth/login": "GatewayOAuthLoginResponse",
    "account/gatewayOAuth/cancel": "GatewayOAuthCancelResponse",
    "account/logout": "LogoutAccountResponse",
    "account/rateLimits/read": "GetAccountRateLimitsResponse",
    "account/usage/read": "GetAccountTokenUsageResponse",
    "account/workspaceMessages/read": "GetWorkspaceMessagesResponse",
    "config/mcpServer/reload": "McpServerRefreshResponse",
    "config/value/write": "ConfigWriteResponse",
    "config/batchWrite": "ConfigWriteResponse",
    "externalAgentConfig/import/readHistories": "ExternalAgentConfigImportHistoriesReadResponse",
}

CODEGEN_OPTIONS = [
    "--input-file-type=jsonschema",
    "--output-model-type=typing.TypedDict",
    "--target-python-version=3.11",
    "--use-union-operator",
    "--use-standard-collections",
    "--enum-field-as-literal=all",
    "--use-field-description",
    "--use-tag-as-union-variant-name",
    "--special-field-name-prefix=",
    "--disable-timestamp",
    "--no-formatters",
]

ROOT_TITLE = "CodexAppServerProtocol"


# --------------------------------------------------------------------------- schema


def codex_binary() -> Path:
    """The codex binary to ask: the pinned runtime wheel's, or ``$CODEX_TYPES_BIN``.

    Not ``$CODEX_BIN``: that one points the test suite at another codex to try the SDK
    against it, while the committed types must stay those of the pinned binary. Set
    ``CODEX_TYPES_BIN`` only to regenerate the types from another binary on purpose.
    """
    env = os.environ.get("CODEX_TYPES_BIN")
    if env:
        return Path(env)
    import codex_cli_bin  # pyright: ignore[reportMissingImports]

    return Path(str(codex_cli_bin.bundled_codex_path()))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]


def codex_version(binary: Path) -> str:
    """``codex --version``, e.g. ``"codex-cli 0.163.0"``."""
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def dump_schema(binary: Path, out: Path, *, experimental: bool = False) -> None:
    """Write the binary's JSON Schema files into ``out``."""
    args = [str(binary), "app-server", "generate-json-schema", "--out", str(out)]
    if experimental:
        args.append("--experimental")
    subprocess.run(args, check=True, capture_output=True)


def load_definitions(schema_dir: Path) -> dict[str, Any]:
    """All definitions of the bundled schema, the ``v2`` namespace flattened into the top."""
    bundle = json.loads((schema_dir / "codex_app_server_protocol.schemas.json").read_text())
    raw = cast(dict[str, Any], bundle["definitions"])
    definitions = {name: value for name, value in raw.items() if name != "v2"}
    for name, value in cast(dict[str, Any], raw.get("v2", {})).items():
        definitions.setdefault(name, value)
    text = json.dumps(definitions).replace('"#/definitions/v2/', '"#/definitions/')
    return cast(dict[str, Any], json.loads(text))


def _normalise(node: Any) -> Any:
    """Drop ``additionalProperties: false`` everywhere (lenient parsing, no ``closed=``)."""
    if isinstance(node, dict):
        mapping = cast(dict[str, Any], node)
        return {
            key: _normalise(value)
            for key, value in mapping.items()
            if not (key == "additionalProperties" and value is False)
        }
    if isinstance(node, list):
        return [_normalise(item) for item in cast(list[Any], node)]
    return node


# --------------------------------------------------------------------------- method tables


@dataclass(frozen=True)
class Method:
    name: str
    params: str | None  # definition name; None when the method takes no params
    response: str | None  # definition name; None when the schema has none for it
    params_required: bool  # whether a params object must be given


@dataclass(frozen=True)
class Tables:
    client: list[Method]
    experimental_methods: list[str]
    experimental_fields: dict[str, list[str]]
    server_requests: list[Method]
    notifications: list[Method]


def _variants(definitions: Mapping[str, Any], union: str) -> Iterator[tuple[str, str | None]]:
    for variant in definitions[union]["oneOf"]:
        props = variant["properties"]
        ref = props.get("params", {}).get("$ref")
        yield props["method"]["enum"][0], ref.rsplit("/", 1)[-1] if ref else None


def _pascal(method: str) -> str:
    parts = re.split(r"[/_]", method)
    return "".join(part[:1].upper() + part[1:] for part in parts if part)


def _response_for(method: str, params: str | None, definitions: Mapping[str, Any]) -> str | None:
    candidates = [RESPONSE_OVERRIDES[method]] if method in RESPONSE_OVERRIDES else []
    if params and params.endswith("Params"):
        stem = params.removesuffix("Params")
        candidates += [stem + "Response", stem.removeprefix("Nullable") + "Response"]
    candidates.append(_pascal(method) + "Response")
    return next((name for name in candidates if name in definitions), None)


def _required(params: str | None, definitions: Mapping[str, Any]) -> bool:
    if params is None:
        return False
    schema = definitions[params]
    if "properties" in schema or schema.get("type") == "object":
        return bool(schema.get("required"))
    return True  # a union or alias: no empty default fits


def _methods(definitions: Mapping[str, Any], union: str) -> list[Method]:
    return [
        Method(
            name,
            params,
            _response_for(name, params, definitions),
            _required(params, definitions),
        )
        for name, params in _variants(definitions, union)
    ]


def build_tables(stable: Mapping[str, Any], experimental: Mapping[str, Any]) -> Tables:
    client = _methods(stable, "ClientRequest")
    stable_names = {method.name for method in client}
    experimental_methods = sorted(
        name for name, _ in _variants(experimental, "ClientRequest") if name not in stable_names
    )
    experimental_fields: dict[str, list[str]] = {}
    for method in client:
        if method.params is None or method.params not in experimental:
            continue
        ours = set(stable[method.params].get("properties", {}))
        theirs = set(experimental[method.params].get("properties", {}))
        if extra := sorted(theirs - ours):
            experimental_fields[method.name] = extra
    return Tables(
        client=client,
        experimental_methods=experimental_methods,
        experimental_fields=experimental_fields,
        server_requests=_methods(stable, "ServerRequest"),
        notifications=_methods(stable, "ServerNotification"),
    )


# --------------------------------------------------------------------------- open enums

OPEN_NOTE = "Known values; the server may send others."
SHARED_NOTE = (
    "Closed: the client sends it too, where a typo should be caught; the server may still"
    " send other values."
)


@dataclass(frozen=True)
class EnumClasses:
    """String-enum definitions by the direction they travel in (see :func:`classify_enums`)."""

    open: frozenset[str]  # server -> client only: ``Literal[...] | str``
    shared: frozenset[str]  # both directions: closed, documented as such
    client: frozenset[str]  # client -> server only: closed
    tags: frozenset[str]  # discriminate a union's variants: closed
    unreachable: frozenset[str]  # reachable from no method: closed, as the schema says


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        mapping = cast(dict[str, Any], node)
        ref = mapping.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in mapping.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in cast(list[Any], node):
            yield from _refs(item)


def reachable(definitions: Mapping[str, Any], roots: Iterable[str | None]) -> set[str]:
    """Definitions reachable from ``roots`` through ``$ref`` (the roots included)."""
    seen: set[str] = set()
    stack = [root for root in roots if root]
    while stack:
        name = stack.pop()
        if name in seen or name not in definitions:
            continue
        seen.add(name)
        stack.extend(_refs(definitions[name]))
    return seen


def _is_string_enum(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    node = cast(dict[str, Any], schema)
    return node.get("type") == "string" and "enum" in node


def _variants_of(schema: Mapping[str, Any]) -> list[Any]:
    return cast(list[Any], schema.get("oneOf") or schema.get("anyOf") or [])


def enum_kind(schema: Mapping[str, Any]) -> str | None:
    """``"enum"``: string literals only; ``"mixed"``: literals or objects; else ``None``."""
    if _is_string_enum(schema):
        return "enum"
    variants = _variants_of(schema)
    if not any(_is_string_enum(variant) for variant in variants):
        return None
    return "enum" if all(_is_string_enum(variant) for variant in variants) else "mixed"


def _objects(definitions: Mapping[str, Any], schema: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The object variants of a (possibly nested, possibly referenced) union."""
    if not isinstance(schema, dict) or depth > 8:
        return []
    node = cast(dict[str, Any], schema)
    if "$ref" in node:
        target = definitions.get(str(node["$ref"]).rsplit("/", 1)[-1])
        return _objects(definitions, target, depth + 1)
    if variants := _variants_of(node):
        return [obj for variant in variants for obj in _objects(definitions, variant, depth + 1)]
    return [node] if "properties" in node else []


def union_tags(definitions: Mapping[str, Any]) -> set[str]:
    """Enum definitions that tag union variants: a property every variant has, always an enum.

    Opening such a tag (``Literal["string"] | str``) would stop a type checker from narrowing
    the union on it, so these stay closed (e.g. ``McpElicitationStringType``).
    """
    tags: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in cast(list[Any], node):
                visit(item)
            return
        if not isinstance(node, dict):
            return
        mapping = cast(dict[str, Any], node)
        if len(objects := _objects(definitions, {"oneOf": _variants_of(mapping)})) > 1:
            required = [set(cast(list[str], obj.get("required", []))) for obj in objects]
            for prop in set[str].intersection(*required):
                values = [obj["properties"].get(prop, {}) for obj in objects]
                if all(_is_tag_value(definitions, value) for value in values):
                    tags.update(str(v["$ref"]).rsplit("/", 1)[-1] for v in values if "$ref" in v)
        for value in mapping.values():
            visit(value)

    visit(dict(definitions))
    return tags


def _is_tag_value(definitions: Mapping[str, Any], schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    node = cast(dict[str, Any], schema)
    if "$ref" in node:
        return enum_kind(definitions.get(str(node["$ref"]).rsplit("/", 1)[-1], {})) == "enum"
    return "enum" in node or "const" in node


def classify_enums(definitions: Mapping[str, Any], tables: Tables) -> EnumClasses:
    """Sort the string-enum definitions by who sends them.

    Server -> client roots: client results, server request params, notification params.
    Client -> server roots: client request params, the results the client answers server
    requests with. An enum reachable only from the first is open; one the client sends
    (only, or as well) stays closed, as do union tags and enums no method reaches.
    """
    server = reachable(
        definitions,
        [m.response for m in tables.client]
        + [m.params for m in tables.server_requests]
        + [m.params for m in tables.notifications],
    )
    client = reachable(
        definitions,
        [m.params for m in tables.client] + [m.response for m in tables.server_requests],
    )
    enums = {name for name, schema in definitions.items() if enum_kind(schema)}
    tags = union_tags(definitions) & enums
    rest = enums - tags
    return EnumClasses(
        open=frozenset(rest & server - client),
        shared=frozenset(rest & server & client),
        client=frozenset(rest & client - server),
        tags=frozenset(tags),
        unreachable=frozenset(rest - server - client),
    )


def _with_note(schema: dict[str, Any], note: str) -> dict[str, Any]:
    description = schema.get("description")
    return {**schema, "description": f"{description}\n\n{note}" if description else note}


def _open_enum(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema widened by a catch-all variant: ``| str`` (``| str | dict`` when mixed)."""
    if enum_kind(schema) == "mixed":
        catch_all: dict[str, Any] = {"type": ["string", "object"]}
    else:
        catch_all = {"type": "string"}
    if _is_string_enum(schema):
        known = {key: value for key, value in schema.items() if key != "description"}
        variants = [known]
        rest = {key: value for key, value in schema.items() if key == "description"}
    else:
        variants = _variants_of(schema)
        rest = {key: value for key, value in schema.items() if key not in ("oneOf", "anyOf")}
    if any(
        variant.get("type") in (["string", "object"], "string") and "enum" not in variant
        for variant in variants
    ):
        return _with_note(dict(schema), OPEN_NOTE)  # open already (e.g. CodexErrorInfo)
    return _with_note({**rest, "anyOf": [*variants, catch_all]}, OPEN_NOTE)


def open_enums(definitions: Mapping[str, Any], classes: EnumClasses) -> dict[str, Any]:
    """``definitions`` with the server-only enums opened and the shared ones documented."""
    out = dict(definitions)
    for name in classes.open:
        out[name] = _open_enum(definitions[name])
    for name in classes.shared:
        out[name] = _with_note(dict(definitions[name]), SHARED_NOTE)
    return out


# --------------------------------------------------------------------------- rendering


def _header(generated_from: str) -> str:
    return (
        f"# Generated by {SCRIPT} from `codex app-server generate-json-schema`\n"
        f"# ({generated_from}). Do not edit: regenerate with `nox -s generate`.\n"
    )


def run_codegen(definitions: Mapping[str, Any]) -> str:
    """TypedDicts for every definition, as datamodel-code-generator writes them."""
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": ROOT_TITLE,
        "definitions": _normalise(definitions),
    }
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "schema.json")
        source.write_text(json.dumps(schema, indent=1, sort_keys=True))
        names = Path(tmp, "names.json")
        names.write_text(json.dumps(MODEL_NAME_MAP))
        target = Path(tmp, "out.py")
        args = [sys.executable, "-m", "datamodel_code_generator", *CODEGEN_OPTIONS]
        args += ["--input", str(source), "--output", str(target), "--model-name-map", str(names)]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"datamodel-codegen failed:\n{done.stderr}")
        return target.read_text()


def _top_level_names(source: str) -> list[str]:
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return [name for name in names if not name.startswith("_")]


def postprocess(source: str, definitions: Mapping[str, Any], generated_from: str) -> str:
    """Header, ``typing``-only imports, no root alias; checks that no definition went missing."""
    body = source.split("\n\nfrom __future__ import annotations\n", 1)[-1]
    body = body.replace("from typing_extensions import TypedDict\n", "")
    imports = re.search(r"^from typing import (.+)$", body, re.MULTILINE)
    if imports is None:
        raise RuntimeError("datamodel-codegen output has no typing import")
    wanted = {name.strip() for name in imports.group(1).split(",")} | {"TypedDict"}
    body = body.replace(imports.group(0), f"from typing import {', '.join(sorted(wanted))}", 1)
    body = re.sub(rf"\n{ROOT_TITLE}: TypeAlias = Any\n", "\n", body)
    names = _top_level_names(body)
    missing = sorted(set(definitions) - set(names))
    if missing:
        raise RuntimeError(f"definitions without a generated name: {missing}")
    unused = sorted(set(MODEL_NAME_MAP.values()) - set(names))
    if unused:
        raise RuntimeError(f"MODEL_NAME_MAP names that no longer apply: {unused}")
    all_names = "".join(f'    "{name}",\n' for name in sorted(names))
    return (
        f"{_header(generated_from)}"
        '"""TypedDicts for every definition of the app-server JSON Schema (static typing only)."""'
        f"\n\nfrom __future__ import annotations\n{body}\n\n__all__ = [\n{all_names}]\n"
    )


def numbered_names(source: str, definitions: Mapping[str, Any]) -> list[str]:
    """Generated names that end in a collision number and are not schema definitions."""
    return [
        name
        for name in _top_level_names(source)
        if re.search(r"\d$", name) and name not in definitions
    ]


def _table(name: str, kind: str, items: Mapping[str, str | None], doc: str) -> str:
    lines = [f"{name}: Final[Mapping[str, {kind}]] = {{"]
    lines += [f'    "{key}": {json.dumps(value)},' for key, value in items.items()]
    lines.append("}")
    lines.append(f'"""{doc}"""')
    return "\n".join(lines).replace(": null,", ": None,") + "\n"


def render_methods(tables: Tables, generated_from: str) -> str:
    out = [
        _header(generated_from),
        '"""Method tables of the app-server protocol: method name -> type name (a str)."""\n',
        "from __future__ import annotations\n",
        "from collections.abc import Mapping",
        "from typing import Final\n",
        f'GENERATED_FROM: Final = "{generated_from}"',
        '"""The ``codex --version`` these tables and types were generated from."""\n',
        _table(
            "CLIENT_REQUESTS",
            "str | None",
            {m.name: m.params for m in tables.client},
            "Stable client request methods -> params type (``None``: the method takes none).",
        ),
        _table(
            "CLIENT_RESPONSES",
            "str | None",
            {m.name: m.response for m in tables.client},
            "Stable client request methods -> result type (``None``: the schema has none).",
        ),
        "EXPERIMENTAL_METHODS: Final[frozenset[str]] = frozenset(",
        "    {",
        *[f'        "{name}",' for name in tables.experimental_methods],
        "    }",
        ")",
        '"""Client methods the server accepts only with ``capabilities.experimentalApi``."""\n',
        "EXPERIMENTAL_FIELDS: Final[Mapping[str, frozenset[str]]] = {",
        *[
            f'    "{method}": frozenset({{{", ".join(json.dumps(f) for f in fields)}}}),'
            for method, fields in tables.experimental_fields.items()
        ],
        "}",
        '"""Params fields of stable methods that only the experimental API accepts."""\n',
        _table(
            "SERVER_REQUESTS",
            "str | None",
            {m.name: m.params for m in tables.server_requests},
            "Server -> client request methods -> params type.",
        ),
        _table(
            "SERVER_REQUEST_RESPONSES",
            "str | None",
            {m.name: m.response for m in tables.server_requests},
            "Server -> client request methods -> the result type the client answers with.",
        ),
        _table(
            "SERVER_NOTIFICATIONS",
            "str | None",
            {m.name: m.params for m in tables.notifications},
            "Server notification methods -> params type.",
        ),
        "NOTIFICATION_PARAMS: Final = SERVER_NOTIFICATIONS",
        '"""Alias of :data:`SERVER_NOTIFICATIONS`."""\n',
    ]
    return "\n".join(out)


def _request_overload(method: Method) -> str:
    result = method.response or "dict[str, Any]"
    if method.params is None:
        params = "params: None = None"
    elif method.params_required:
        params = f"params: {method.params}"
    else:
        params = f"params: {method.params} | None = None"
    if method.response:
        result = method.response
    return (
        "        @overload\n"
        f'        async def request(self, method: Literal["{method.name}"], {params}, '
        f"*, timeout: float | None = None) -> {result}: ...\n"
    )


def render_requests(tables: Tables, generated_from: str) -> str:
    known = "".join(f'    "{m.name}",\n' for m in tables.client)
    used = {m.params for m in tables.client} | {m.response for m in tables.client}
    used |= {m.params for m in tables.notifications}
    imports = "".join(f"    {name},\n" for name in sorted(name for name in used if name))
    overloads = "".join(_request_overload(m) for m in tables.client)
    notes = "".join(
        "@overload\n"
        f'def notification_params(note: Notification, method: Literal["{m.name}"]) '
        f"-> {m.params}: ...\n"
        for m in tables.notifications
        if m.params
    )
    return f'''{_header(generated_from)}
"""Typed raw access: ``request`` overloads per client method, typed notification params."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

if TYPE_CHECKING:  # annotations only: importing this module does not load _generated
    from typing_extensions import deprecated

    from ._generated import (
    {imports})

    from ..protocol import Notification


ClientMethod: TypeAlias = Literal[
{known}]
"""Every stable client request method."""


class TypedRequests:
    """Mixin: ``request`` typed per method. The host class provides ``_request``.

    A known method with params of the wrong shape matches the ``deprecated`` overload, so a
    type checker reports it (pyright: ``reportDeprecated``, an error in strict mode); an
    unknown method falls through to the untyped overload.
    """

    __slots__ = ()

    async def _request(
        self, method: str, params: Mapping[str, Any] | None, *, timeout: float | None
    ) -> Any:
        raise NotImplementedError

    if TYPE_CHECKING:
        # The overloads exist for type checkers only: executing ~200 decorated defs at
        # import time would cost milliseconds for no run-time benefit.
{overloads}        @overload
        @deprecated("params do not match this method's params type")
        async def request(
            self,
            method: ClientMethod,
            params: Mapping[str, Any] | None = None,
            *,
            timeout: float | None = None,
        ) -> Any: ...
        @overload
        async def request(
            self,
            method: str,
            params: Mapping[str, Any] | None = None,
            *,
            timeout: float | None = None,
        ) -> Any: ...
    async def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Send any request and return the server's ``result`` as it came.

        Known methods are typed: ``params`` must match the method's params TypedDict and the
        result is its response TypedDict (static typing only; nothing is validated at run
        time, unknown fields and values pass through). Other methods are accepted untyped.

        Args:
            method: the protocol method, e.g. ``"thread/list"``.
            params: the params object; ``{{}}`` is sent when omitted.
            timeout: seconds to wait for the answer; the client's ``request_timeout`` when
                ``None``.

        Raises:
            CodexProtocolError: the server answered with a JSON-RPC error (``.code``,
                ``.data``); ``-32001`` overload answers are retried with backoff first.
            CodexTimeoutError: no answer in time.
            CodexTransportError: the connection is closed or ended while waiting.
            CodexError: an experimental method or field without ``experimental_api=True``.
        """
        return await self._request(method, params, timeout=timeout)


{notes}@overload
def notification_params(note: Notification, method: str) -> Mapping[str, Any]: ...
def notification_params(note: Notification, method: str) -> Any:
    """``note.params`` typed as ``method``'s params; ``ValueError`` if ``note`` is another method.

    Nothing is validated: the dict is returned as the server sent it.
    """
    if note.method != method:
        raise ValueError(f"notification is {{note.method!r}}, not {{method!r}}")
    return note.params
'''


def render_init(generated_names: list[str], generated_from: str) -> str:
    extra = [
        "CLIENT_REQUESTS",
        "CLIENT_RESPONSES",
        "EXPERIMENTAL_FIELDS",
        "EXPERIMENTAL_METHODS",
        "GENERATED_FROM",
        "NOTIFICATION_PARAMS",
        "SERVER_NOTIFICATIONS",
        "SERVER_REQUESTS",
        "SERVER_REQUEST_RESPONSES",
        "ClientMethod",
        "TypedRequests",
        "notification_params",
    ]
    names = "".join(f'    "{name}",\n' for name in [*extra, *generated_names])
    return f'''{_header(generated_from)}
"""Wire types of the Codex app-server protocol, generated from the pinned binary's schema.

Static typing only, at zero run-time cost: these are ``TypedDict`` classes and type aliases,
so a result is still the plain ``dict`` the server sent, and the generated module is loaded
only when one of its names is used at run time. Parsing stays lenient: unknown
fields, unknown enum values and unknown notification methods pass through untouched.

- every schema definition keeps its name (``ThreadListParams``, ``ThreadListResponse``,
  ``Thread``, ``Turn``, ``ThreadItem``, ...);
- :class:`TypedRequests` gives ``request`` an overload per stable client method, so
  ``await client.request("thread/list", {{"limit": 5}})`` is a ``ThreadListResponse``;
- :func:`notification_params` types a notification's params by its method (or ``cast`` to
  the ``...Notification`` type yourself);
- the tables (``CLIENT_REQUESTS``, ``EXPERIMENTAL_METHODS``, ``EXPERIMENTAL_FIELDS``,
  ``SERVER_REQUESTS``, ``SERVER_NOTIFICATIONS``) map method names to type names.

Regenerate with ``nox -s generate`` (script: ``{SCRIPT}``).
"""

from typing import TYPE_CHECKING

from ._methods import (
    CLIENT_REQUESTS,
    CLIENT_RESPONSES,
    EXPERIMENTAL_FIELDS,
    EXPERIMENTAL_METHODS,
    GENERATED_FROM,
    NOTIFICATION_PARAMS,
    SERVER_NOTIFICATIONS,
    SERVER_REQUEST_RESPONSES,
    SERVER_REQUESTS,
)
from ._requests import ClientMethod, TypedRequests, notification_params

if TYPE_CHECKING:
    from ._generated import *  # noqa: F403
else:

    def __getattr__(name: str) -> object:
        """Load ``_generated`` (about 1,100 classes) only when one of its names is used."""
        if name.startswith("_") or name not in __all__:
            raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
        from . import _generated

        value = getattr(_generated, name)
        globals()[name] = value
        return value


__all__ = [
{names}]
'''


def _ruff(args: list[str], source: str, filename: Path) -> str:
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(filename), "-"]
    done = subprocess.run(command, input=source, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"ruff {args[0]} failed on {filename.name}:\n{done.stderr}")
    return done.stdout


def format_source(source: str, filename: Path) -> str:
    """ruff's import sorting, safe fixes and formatting, with the workspace's settings."""
    source = _ruff(["check", "--fix", "--quiet", "--exit-zero"], source, filename)
    return _ruff(["format", "--quiet"], source, filename)


def render(stable_dir: Path, experimental_dir: Path, generated_from: str) -> dict[str, str]:
    """Every generated file (name -> text) for a stable and an experimental schema dir."""
    definitions = load_definitions(stable_dir)
    tables = build_tables(definitions, load_definitions(experimental_dir))
    widened = open_enums(definitions, classify_enums(definitions, tables))
    generated = postprocess(run_codegen(widened), definitions, generated_from)
    files = {
        GENERATED: generated,
        METHODS: render_methods(tables, generated_from),
        REQUESTS: render_requests(tables, generated_from),
        INIT: render_init(_top_level_names(generated), generated_from),
    }
    return {name: format_source(text, TYPES_DIR / name) for name, text in files.items()}


# --------------------------------------------------------------------------- drift


def committed_generated_from() -> str | None:
    """``GENERATED_FROM`` of the committed tables, if there are any."""
    path = TYPES_DIR / METHODS
    if not path.exists():
        return None
    found = re.search(r'^GENERATED_FROM: Final = "(.*)"$', path.read_text(), re.MULTILINE)
    return found.group(1) if found else None


def _segments(source: str) -> dict[str, str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {"<module>": source}
    lines = source.splitlines()
    segments: dict[str, str] = {}
    key = "<module>"
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            key = node.name
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            key = node.target.id
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            key = node.targets[0].id
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            key = "<module>"  # a bare string documents the name before it; all else: module
        start = node.lineno
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([start, *(decorator.lineno for decorator in node.decorator_list)])
        text = "\n".join(lines[start - 1 : node.end_lineno])
        segments[key] = segments.get(key, "") + text + "\n"
    return segments


def compare(committed: Mapping[str, str], fresh: Mapping[str, str]) -> list[str]:
    """Differences as ``"file: changed|added|removed Name"`` lines, sorted."""
    problems: list[str] = []
    for name in sorted(set(committed) | set(fresh)):
        old, new = committed.get(name), fresh.get(name)
        if old == new:
            continue
        if old is None or new is None:
            problems.append(f"{name}: {'missing' if old is None else 'not generated'}")
            continue
        before, after = _segments(old), _segments(new)
        found = len(problems)
        for key in sorted(set(before) | set(after)):
            if key not in before:
                problems.append(f"{name}: added {key}")
            elif key not in after:
                problems.append(f"{name}: removed {key}")
            elif before[key] != after[key]:
                problems.append(f"{name}: changed {key}")
        if len(problems) == found:
            problems.append(f"{name}: changed (comments or layout)")
    return problems


def check_drift(
    stable_dir: Path, experimental_dir: Path, generated_from: str | None = None
) -> list[str]:
    """Regenerate in memory from schema dirs and list how the committed files differ.

    ``generated_from`` defaults to the committed ``GENERATED_FROM``, so only the schema counts.
    """
    version = generated_from or committed_generated_from() or "unknown"
    fresh = render(stable_dir, experimental_dir, version)
    committed = {
        name: (TYPES_DIR / name).read_text() for name in fresh if (TYPES_DIR / name).exists()
    }
    return compare(committed, fresh)


def dump_pinned(out: Path, binary: Path | None = None) -> tuple[Path, Path, str]:
    """Dump the pinned binary's stable and experimental schemas under ``out``."""
    binary = binary or codex_binary()
    stable, experimental = out / "stable", out / "experimental"
    dump_schema(binary, stable)
    dump_schema(binary, experimental, experimental=True)
    return stable, experimental, codex_version(binary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        stable, experimental, version = dump_pinned(Path(tmp))
        if args.check:
            problems = check_drift(stable, experimental, version)
            print("\n".join(problems) or "no drift")
            return 1 if problems else 0
        files = render(stable, experimental, version)
        definitions = load_definitions(stable)
    TYPES_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (TYPES_DIR / name).write_text(text)
    numbered = numbered_names(files[GENERATED], definitions)
    print(f"wrote {len(files)} files to {TYPES_DIR.relative_to(ROOT)} from {version}")
    print(f"numbered collision names left: {len(numbered)} {numbered}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
