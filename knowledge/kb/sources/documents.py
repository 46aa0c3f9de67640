"""User documents: Markdown, plain text, PDF (with a text layer, via pypdf) and HTML.

Chunked by meaning: Markdown/HTML headings start sections; long sections are split at
paragraph boundaries (~1,200 characters). Every file is read and validated before the index
is touched, so a bad file leaves the index as it was.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from knowledge.kb.sources import Chunk, DocumentError

SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
}
MAX_BYTES = 20 * 1024 * 1024
MAX_CHUNK_CHARS = 1200
LICENCE = "user document (licence as provided by the user)"


def key_for(path: Path) -> str:
    return f"doc:{path.resolve()}"


class _HTMLText(HTMLParser):
    BLOCK: ClassVar[set[str]] = {
        "p",
        "div",
        "li",
        "br",
        "tr",
        "section",
        "article",
        "table",
        "ul",
        "ol",
    }
    SKIP: ClassVar[set[str]] = {"script", "style", "head", "nav", "footer", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        if tag == "title":
            self._in_title = True
        if re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag == "title":
            self._in_title = False
        if re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(data)


def html_to_markdownish(text: str) -> tuple[str, str]:
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    body = html.unescape("".join(parser.parts))
    return parser.title.strip(), re.sub(r"[ \t]+", " ", body)


def pdf_text(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(
            f"{name}: not a readable PDF ({exc}); export it again or use text"
        ) from exc
    except Exception as exc:  # pypdf raises many types on corrupt files
        raise DocumentError(
            f"{name}: not a readable PDF ({type(exc).__name__}); export it again"
        ) from exc
    text = "\n\n".join(pages)
    if not text.strip():
        raise DocumentError(f"{name}: the PDF has no text layer (scanned?); OCR it first")
    return text


def sections(text: str, default_title: str) -> list[tuple[str, str]]:
    """(heading, body) pairs; text before the first heading goes under ``default_title``."""
    out: list[tuple[str, str]] = []
    title = default_title
    buf: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
        if m:
            if "".join(buf).strip():
                out.append((title, "\n".join(buf).strip()))
            title, buf = m.group(1).strip(), []
        else:
            buf.append(line)
    if "".join(buf).strip():
        out.append((title, "\n".join(buf).strip()))
    return out


def split_long(body: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    out: list[str] = []
    cur = ""
    for p in paras:
        while len(p) > limit:  # one huge paragraph: cut at a sentence end near the limit
            cut = p.rfind(". ", 0, limit)
            cut = cut + 1 if cut > limit // 3 else limit
            if cur:
                out.append(cur)
                cur = ""
            out.append(p[:cut].strip())
            p = p[cut:].strip()
        if cur and len(cur) + len(p) + 2 > limit:
            out.append(cur)
            cur = p
        else:
            cur = f"{cur}\n\n{p}" if cur else p
    if cur:
        out.append(cur)
    return out


class DocumentSource:
    """One user file. Construction reads and validates it; ``chunks()`` cannot fail after."""

    licence = LICENCE

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.name = key_for(path)
        if not path.is_file():
            raise DocumentError(f"{path}: no such file")
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise DocumentError(
                f"{path}: unsupported file type {path.suffix or '(none)'}; use "
                + ", ".join(sorted(SUFFIXES))
            )
        size = path.stat().st_size
        if size == 0:
            raise DocumentError(f"{path}: the file is empty; nothing to ingest")
        if size > max_bytes:
            raise DocumentError(
                f"{path}: {size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit; "
                "split it into smaller files"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
        self._fingerprint = hashlib.sha256(b"doc-v1" + data).hexdigest()
        title = path.stem.replace("_", " ").replace("-", " ")
        if kind == "pdf":
            text = pdf_text(data, path.name)
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            if "\x00" in text:
                raise DocumentError(f"{path}: looks like a binary file, not {kind}")
            if kind == "html":
                try:
                    html_title, text = html_to_markdownish(text)
                except Exception as exc:  # html.parser asserts on some malformed markup
                    raise DocumentError(
                        f"{path}: the HTML is malformed ({type(exc).__name__}); "
                        "save the page as text or Markdown"
                    ) from exc
                title = html_title or title
        if not text.strip():
            raise DocumentError(f"{path}: no text found; nothing to ingest")
        self.title = title
        self._chunks = self._make_chunks(text, kind)
        if not self._chunks:
            raise DocumentError(f"{path}: no text found; nothing to ingest")

    def version(self) -> str:
        return self._fingerprint[:12]

    def fingerprint(self) -> str:
        return self._fingerprint

    def _make_chunks(self, text: str, kind: str) -> list[Chunk]:
        out: list[Chunk] = []
        digest = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:10]
        for s_i, (heading, body) in enumerate(sections(text, self.title)):
            for p_i, piece in enumerate(split_long(body)):
                label = heading if heading == self.title else f"{self.title} — {heading}"
                out.append(
                    Chunk(
                        id=f"doc:{digest}:{s_i}.{p_i}",
                        text=f"{heading}. {piece}" if heading not in piece[:200] else piece,
                        title=label,
                        source="document",
                        type="section",
                        identifier=f"{self.path.name}#{s_i + 1}",
                        url=self.path.resolve().as_uri(),
                        licence=LICENCE,
                        version=self.version(),
                    )
                )
        return out

    def chunks(self) -> Iterator[Chunk]:
        yield from self._chunks
