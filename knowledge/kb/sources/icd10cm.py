"""ICD-10-CM tabular list (US government work, public domain) from ``simple-icd-10-cm``.

A separate collection, so that title-only code passages do not crowd out definitions.
Default: categories (3 characters) and subcategories (4 characters), each passage listing its
inclusion terms and the titles of its deeper codes, so a lookup for a 5-7 character code still
lands on its parent. ``icd10cm-full``: one passage per code in the tabular list.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from knowledge.kb.sources import CODES, Chunk, SourceUnavailableError, file_sha256

LICENCE = "Public domain (US government work, CDC/NCHS ICD-10-CM)"
MAX_CHILD_TITLES = 25
MAX_ALIASES = 15
"""Inclusion terms embedded one by one beside the title (``Chunk.aliases``)."""


def default_xml_path() -> Path | None:
    """The package's tabular XML, found without importing it (its import parses the XML)."""
    import importlib.util

    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    found = sorted(folder.glob("icd10*tabular*.xml"))
    return found[-1] if found else None


def _texts(node: ET.Element, tag: str) -> list[str]:
    return [(n.text or "").strip() for n in node.findall(f"{tag}/note") if (n.text or "").strip()]


class ICD10CMSource:
    licence = LICENCE

    def __init__(self, path: Path | None = None, *, full: bool = False) -> None:
        found = path or default_xml_path()
        if found is None:
            raise SourceUnavailableError(
                "ICD-10-CM needs the simple-icd-10-cm package (simple-icd-10-cm==1.5.0)"
            )
        self.path = found
        self.full = full
        self.name = "icd10cm-full" if full else "icd10cm"
        self._version: str | None = None

    def version(self) -> str:
        if self._version is None:
            with self.path.open(encoding="utf-8") as fh:
                head = fh.read(400)
            start = head.find("<version>")
            self._version = head[start + 9 : head.find("</version>")] if start >= 0 else "unknown"
        return self._version

    def fingerprint(self) -> str:
        return file_sha256(self.path, extra=f"{self.name}-v3")

    def chunks(self) -> Iterator[Chunk]:
        root = ET.parse(self.path).getroot()
        version = self.version()
        for chapter in root.iter("chapter"):
            chapter_desc = (chapter.findtext("desc") or "").strip()
            for diag in chapter.iter("diag"):
                code = (diag.findtext("name") or "").strip()
                title = (diag.findtext("desc") or "").strip()
                if not code or not title:
                    continue
                depth = len(code.replace(".", ""))
                if not self.full and depth > 4:
                    continue
                parts = [f"{code} {title}."]
                terms = _texts(diag, "inclusionTerm")
                inclusions = terms + _texts(diag, "includes")
                if inclusions:
                    parts.append("Includes: " + "; ".join(inclusions[:15]) + ".")
                if not self.full:
                    children = [
                        f"{(d.findtext('name') or '').strip()} {(d.findtext('desc') or '').strip()}"
                        for d in diag.iter("diag")
                        if d is not diag
                    ]
                    if children:
                        parts.append("Codes: " + "; ".join(children[:MAX_CHILD_TITLES]) + ".")
                excl = _texts(diag, "excludes1")
                if excl:
                    parts.append("Excludes: " + "; ".join(excl[:8]) + ".")
                parts.append(f"Chapter: {chapter_desc}.")
                yield Chunk(
                    id=f"icd10cm:{code}",
                    text=" ".join(parts),
                    title=f"{code} {title}",
                    source="icd10cm",
                    type="code",
                    identifier=code,
                    url=f"https://www.cdc.gov/nchs/icd/icd-10-cm/ (code {code})",
                    licence=LICENCE,
                    version=version,
                    collection=CODES,
                    embed_text=f"{title}. " + "; ".join(inclusions[:2]),
                    aliases=tuple(dict.fromkeys([title, *terms[:MAX_ALIASES]])),
                )
