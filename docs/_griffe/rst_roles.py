"""A griffe extension for the docs build: turns the reST roles in our docstrings into Markdown.

The package docstrings are Google style with Sphinx-style roles (``:class:`~pkg.mod.Name```)
and ``::`` literal blocks, which read well in an editor and in ``help()``. mkdocstrings renders
Markdown, so before rendering this extension rewrites each docstring:

- a role whose target is a fully qualified public name of this project
  (``codex_app_server_client...``) becomes a cross-reference (``[`Name`][pkg.mod.Name]``),
  which autorefs resolves and, in strict mode, fails the build when the target is missing;
- any other role (a relative name, a private module, another library) becomes inline code;
- a paragraph ending in ``::`` ends in ``:`` (the indented block after it is already a
  Markdown code block).

It changes only what the site shows; the docstrings in the code stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")
_OUR_PACKAGES = (
    "codex_app_server_client",
    "codex_app_server_client_stdio",
    "codex_app_server_client_ws",
)


def _is_public_path(target: str) -> bool:
    parts = target.split(".")
    return parts[0] in _OUR_PACKAGES and not any(part.startswith("_") for part in parts)


def _replace_role(match: re.Match[str]) -> str:
    short, target = match.group(1) == "~", match.group(2).strip()
    shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
    if _is_public_path(target):
        return f"[`{shown}`][{target}]"
    return f"`{shown}`"


def markdown_docstring(text: str) -> str:
    """The docstring ``text`` with roles and ``::`` literal markers rewritten for Markdown."""
    text = _ROLE.sub(_replace_role, text)
    lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.rstrip()
        if stripped.strip() == "::":
            lines.append("")
        elif stripped.endswith("::"):
            lines.append(stripped[:-1])
        else:
            lines.append(line)
    return "\n".join(lines)


class RstRoles(griffe.Extension):
    """Rewrites every docstring of the loaded packages once it has been read."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
