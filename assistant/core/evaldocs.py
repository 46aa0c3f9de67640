"""Evaluation tables in the docs, generated from the eval JSON so they cannot drift.

Each area's ``eval-out/<area>.json`` is rendered by the ``render_markdown(metrics) -> str``
function of the module that evaluates it (the module named in ``evaluation.AREAS``), and the
result replaces whatever stands between ``<!-- generated:eval-AREA -->`` and
``<!-- /generated:eval-AREA -->`` in any Markdown file under the docs folder. Areas without a
renderer, or without JSON, are left as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assistant.core.errors import UserError
from assistant.core.types import Echo


def renderer(entry: str) -> Callable[[dict[str, Any]], str] | None:
    """``render_markdown`` beside an area's evaluate function (``module:function``)."""
    import importlib

    module = importlib.import_module(entry.partition(":")[0])
    fn = getattr(module, "render_markdown", None)
    return fn if callable(fn) else None


def replace_marked(text: str, name: str, body: str) -> tuple[str, bool]:
    """``text`` with the block between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``
    replaced by ``body``."""
    pattern = re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n).*?(\n?<!-- /generated:{re.escape(name)} -->)",
        re.DOTALL,
    )
    if not pattern.search(text):
        return text, False
    return pattern.sub(lambda m: f"{m.group(1)}{body.rstrip()}\n{m.group(2).lstrip()}", text), True


def replace_block(text: str, area: str, body: str) -> tuple[str, bool]:
    """``text`` with the generated block for ``area`` replaced by ``body``."""
    return replace_marked(text, f"eval-{area}", body)


def write_marked(doc: Path, name: str, body: str) -> bool:
    """Replace the block marked ``generated:NAME`` in the file ``doc``; False when the file or its
    markers are missing."""
    if not doc.is_file():
        return False
    text = doc.read_text(encoding="utf-8")
    new, found = replace_marked(text, name, body)
    if found and new != text:
        doc.write_text(new, encoding="utf-8")
    return found


def write_block(doc: Path, area: str, body: str) -> bool:
    """Replace ``area``'s generated block (``generated:eval-AREA``) in the file ``doc``; False
    when the file or its markers are missing."""
    return write_marked(doc, f"eval-{area}", body)


def write_docs(
    areas: Iterable[str], out: Path, docs: Path, *, entries: dict[str, str], echo: Echo = print
) -> list[Path]:
    """Render each area's JSON into every doc that has its markers; the files changed."""
    if not docs.is_dir():
        raise UserError(
            f"docs folder {docs} does not exist: run from the repository root or pass --docs-dir"
        )
    changed: list[Path] = []
    pages = sorted(docs.rglob("*.md"))
    for area in areas:
        path = out / f"{area}.json"
        render = renderer(entries[area])
        if render is None:
            echo(f"docs: {area} has no render_markdown; left as is")
            continue
        if not path.is_file():
            echo(f"docs: {path} is missing; run `clinassist eval {area}` first")
            continue
        body = render(json.loads(path.read_text()))
        for page in pages:
            text = page.read_text(encoding="utf-8")
            new, found = replace_block(text, area, body)
            if found and new != text:
                page.write_text(new, encoding="utf-8")
                if page not in changed:
                    changed.append(page)
                echo(f"docs: {page} <- {area}")
    return changed
