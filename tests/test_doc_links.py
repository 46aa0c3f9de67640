"""Every relative Markdown link in README.md and under docs/ resolves: to a file or folder of the
repository, and, for a link to a Markdown page with a #fragment, to one of that page's headings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def links(text: str) -> list[str]:
    """The link targets of a Markdown text, outside code blocks and code spans."""
    text = CODE.sub("", FENCE.sub("", text))
    return LINK.findall(text)


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in text.splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken(page: Path, root: Path = ROOT) -> list[str]:
    out = []
    for target in links(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # http:, https:, mailto: and the like: not checked offline
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            out.append(f"{page.relative_to(root)}: {target} (no such file)")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            out.append(f"{page.relative_to(root)}: {target} (no such heading)")
    return out


def test_every_relative_link_in_the_docs_resolves() -> None:
    found = [b for page in pages() for b in broken(page)]
    assert not found, "\n".join(found)


def test_the_triage_page_links_every_history_page() -> None:
    index = (ROOT / "docs" / "TRIAGE.md").read_text(encoding="utf-8")
    linked = {Path(t).name for t in links(index) if t.startswith("triage/")}
    history = {p.name for p in (ROOT / "docs" / "triage").glob("*.md")}
    assert history <= linked, sorted(history - linked)


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        (
            "see [the guide](DEPLOY.md) and [limits](SLACK.md#limits)",
            ["DEPLOY.md", "SLACK.md#limits"],
        ),
        ('[a](x.md "title")', ["x.md"]),
        ("![an image](img.png) is not a page link", []),
        ("`[not a link](nowhere.md)` in code", []),
        ("```\n[not a link](nowhere.md)\n```\n", []),
    ],
)
def test_links_are_read_outside_code(text: str, targets: list[str]) -> None:
    assert links(text) == targets


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Limits", "limits"),
        ("Development history", "development-history"),
        (
            "Metrics on the test set (624 images, same run as cxr-pneumonia.v1)",
            "metrics-on-the-test-set-624-images-same-run-as-cxr-pneumoniav1",
        ),
        ("Round 13 (the learned net): a word net", "round-13-the-learned-net-a-word-net"),
    ],
)
def test_a_heading_anchor_is_githubs(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_dead_link_and_a_missing_heading_are_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\n[ok](b.md#here) [gone](c.md) [bad](b.md#nowhere)\n")
    (tmp_path / "b.md").write_text("## Here\n")
    found = broken(tmp_path / "a.md", tmp_path)
    assert found == ["a.md: c.md (no such file)", "a.md: b.md#nowhere (no such heading)"]
