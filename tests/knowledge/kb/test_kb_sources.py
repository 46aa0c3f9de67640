"""Knowledge sources: HPO OBO parsing, WordNet selection, ICD-10-CM passages, user documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.kb.sources import CODES, DocumentError, SourceUnavailableError, citation, get_source
from knowledge.kb.sources.documents import DocumentSource, html_to_markdownish, sections, split_long
from knowledge.kb.sources.hpo import HPOSource, parse_obo
from knowledge.kb.sources.wordnet import WordNetSource, medical_synsets, parse_data_noun

OBO = """format-version: 1.2
data-version: hp/releases/2025-01-16

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0002107
name: Pneumothorax
def: "Accumulation of air in the pleural cavity leading to a partially or completely collapsed lung." [https://orcid.org/x]
synonym: "Collapsed lung" EXACT layperson []
synonym: "Pneumothoraces" EXACT plural_form []
is_a: HP:0002103 ! Abnormal pleura morphology

[Term]
id: HP:0002103
name: Abnormal pleura morphology

[Term]
id: HP:9999999
name: Old term
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""

WN_LINES = [
    "  1 This software and database is being provided to you, the LICENSEE, by",
    "14034177 26 n 02 disease 0 ill_health 0 000 | an impairment of health",
    "14061805 26 n 01 pneumothorax 0 001 @ 14034177 n 0000 | abnormal presence of air in the pleural cavity",
    "07705931 13 n 01 bread 0 000 | food made from dough",
    "99999999 26 n 01 subtype 0 001 @ 14061805 n 0000 | a kind of pneumothorax",
]


def test_obo_parse_terms_synonyms_parents_and_obsolete() -> None:
    version, terms = parse_obo(OBO)
    assert version == "2025-01-16"
    by_id = {t.id: t for t in terms}
    ptx = by_id["HP:0002107"]
    assert ptx.definition.startswith("Accumulation of air")
    assert ptx.layperson == ["Collapsed lung"]
    assert "Pneumothoraces" in ptx.synonyms and ptx.parents == ["HP:0002103"]
    assert by_id["HP:9999999"].obsolete
    assert "part_of" not in by_id


def test_hpo_source_chunks_carry_citation_metadata(tmp_path: Path) -> None:
    path = tmp_path / "hp.obo"
    path.write_text(OBO, encoding="utf-8")
    chunks = {c.id: c for c in HPOSource(path).chunks()}
    assert set(chunks) == {"hpo:HP:0002107", "hpo:HP:0002103"}  # root and obsolete dropped
    c = chunks["hpo:HP:0002107"]
    assert "Collapsed lung" in c.text and "A type of: Abnormal pleura morphology" in c.text
    assert c.version == "2025-01-16" and "attribution" in c.licence and c.url.endswith("HP:0002107")
    assert citation({**c.metadata()}) == "HPO HP:0002107 (2025-01-16)"
    assert c.aliases[0] == "Pneumothorax" and {"Collapsed lung", "Pneumothoraces"} <= set(c.aliases)
    assert len({a.lower() for a in c.aliases}) == len(c.aliases)
    assert "aliases" not in c.metadata()  # vectors of their own, not passage metadata


@given(st.text(max_size=400))
@settings(max_examples=60, deadline=None)
def test_obo_parser_never_crashes(text: str) -> None:
    version, terms = parse_obo("[Term]\n" + text)
    assert all(t.id and t.name for t in terms)
    assert isinstance(version, str)


def test_wordnet_selects_medical_synsets_by_hypernyms(tmp_path: Path) -> None:
    syn = parse_data_noun(WN_LINES)
    chosen = {s.offset for s in medical_synsets(syn)}
    assert chosen == {"14034177", "14061805", "99999999"}
    path = tmp_path / "data.noun"
    path.write_text("\n".join(WN_LINES) + "\n", encoding="utf-8")
    chunks = {c.id: c for c in WordNetSource(path).chunks()}
    assert "wordnet:07705931-n" not in chunks
    assert chunks["wordnet:14061805-n"].text.startswith("pneumothorax: abnormal presence of air")


@given(st.lists(st.text(max_size=120), max_size=8))
@settings(max_examples=60, deadline=None)
def test_wordnet_parser_tolerates_garbage(lines: list[str]) -> None:
    parsed = parse_data_noun(lines)
    assert all(s.offset for s in parsed.values())


def test_wordnet_missing_names_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import knowledge.kb.sources.wordnet as wn

    monkeypatch.setattr(wn, "CANDIDATE_PATHS", (tmp_path / "nope",))
    monkeypatch.delenv(wn.ENV_PATH, raising=False)
    with pytest.raises(SourceUnavailableError, match="wordnet-base"):
        wn.WordNetSource()


def test_unknown_source_lists_valid_ones() -> None:
    with pytest.raises(Exception, match="hpo"):
        get_source("pubmed")


def test_icd10cm_default_is_categories_and_subcategories_with_child_titles() -> None:
    chunks = {c.id: c for c in get_source("icd10cm").chunks()}
    assert 10_000 < len(chunks) < 15_000
    j930 = chunks["icd10cm:J93.0"]
    assert j930.title == "J93.0 Spontaneous tension pneumothorax" and j930.collection == CODES
    assert "J93.11 Primary spontaneous pneumothorax" in chunks["icd10cm:J93.1"].text
    assert all(len(c.identifier.replace(".", "")) <= 4 for c in chunks.values())
    assert citation(j930.metadata()) == "ICD-10-CM J93.0 (2026)"
    assert j930.aliases == ("Spontaneous tension pneumothorax",)
    assert chunks["icd10cm:A04.7"].aliases[:2] == (
        "Enterocolitis due to Clostridium difficile",
        "Clostridioides difficile colitis",  # an inclusion term
    )


# -- user documents ---------------------------------------------------------------------------


def _pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF with a text layer (offsets computed, so pypdf reads it cleanly)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_markdown_is_chunked_by_heading(tmp_path: Path) -> None:
    p = tmp_path / "ward_protocol.md"
    p.write_text(
        "# Chest drains\nInsert in the safe triangle.\n\n## Removal\nRemove when bubbling stops.\n"
    )
    chunks = list(DocumentSource(p).chunks())
    assert [c.title for c in chunks] == ["ward protocol — Chest drains", "ward protocol — Removal"]
    assert chunks[1].source == "document" and chunks[1].identifier == "ward_protocol.md#2"
    assert chunks[0].url.startswith("file://")


def test_html_text_skips_scripts_and_keeps_headings(tmp_path: Path) -> None:
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>Asthma plan</title><script>var x=1;</script></head>"
        "<body><h2>Reliever</h2><p>Use salbutamol &amp; sit up.</p></body></html>"
    )
    src = DocumentSource(p)
    chunks = list(src.chunks())
    assert src.title == "Asthma plan"
    assert any("salbutamol & sit up" in c.text for c in chunks)
    assert not any("var x" in c.text for c in chunks)
    _title, text = html_to_markdownish("<h1>A</h1><p>b</p>")
    assert sections(text, "doc") == [("A", "b")]


def test_pdf_with_text_layer(tmp_path: Path) -> None:
    p = tmp_path / "leaflet.pdf"
    p.write_bytes(_pdf_bytes("Pleural effusion is fluid around the lung"))
    chunks = list(DocumentSource(p).chunks())
    assert "Pleural effusion is fluid around the lung" in chunks[0].text


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("empty.md", b"", "empty"),
        ("blank.txt", b"   \n\n ", "no text"),
        ("corrupt.pdf", b"%PDF-1.4\n this is not really a pdf", "not a readable PDF|no text layer"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type"),
        ("binary.txt", b"abc\x00def", "binary"),
    ],
)
def test_bad_documents_give_one_clear_message(
    tmp_path: Path, name: str, data: bytes, match: str
) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(DocumentError, match=match):
        DocumentSource(p)


def test_too_large_document_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    with p.open("wb") as fh:  # 50 MB sparse file: refused by size, never read
        fh.seek(50 * 1024 * 1024 - 1)
        fh.write(b"x")
    with pytest.raises(DocumentError, match="over the 20 MB limit"):
        DocumentSource(p)


@given(
    st.lists(
        st.text(
            alphabet=st.characters(
                codec="utf-8", exclude_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
            ),
            min_size=1,
            max_size=700,
        ),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=60, deadline=None)
def test_split_long_respects_the_limit_and_keeps_words(paras: list[str]) -> None:
    body = "\n\n".join(paras)
    pieces = split_long(body, limit=300)
    assert all(len(p) <= 300 for p in pieces)
    assert "".join(body.split()) == "".join("".join(pieces).split())
