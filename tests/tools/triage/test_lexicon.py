"""Reading a pattern's leading literals (``lexicon.leading_literals``): a pattern tried only
where its literals occur finds exactly what a full scan finds."""

from __future__ import annotations

import re

import pytest

from tools.triage.lexicon import _group_end, _split_alternatives, leading_literals, lexicon


def test_groups_and_alternatives_skip_escapes_and_classes() -> None:
    p = r"(?:a\)|[)(|]b|(c))d"
    assert p[_group_end(p, 0)] == ")" and p[_group_end(p, 0) + 1 :] == "d"
    assert _split_alternatives(r"a|b(?:c|d)|[|]e|f\|g") == ["a", "b(?:c|d)", "[|]e", r"f\|g"]
    with pytest.raises(ValueError):
        _group_end("(a(b)", 0)


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        (r"\bsore\s+throat", {"sore"}),
        (r"\b(?:sore|scratchy)\s+throat|\bthroat\s+pain", {"sore", "scratchy", "throat"}),
        (r"(?<!no\s)\bfever", {"fever"}),
        (r"\bcoughs?", {"cough"}),
        (r"(?:a|b)?c", None),
        (r"\d+\s+days", None),
        (r"\bx\b", None),
    ],
)
def test_leading_literals(pattern: str, want: set[str] | None) -> None:
    got = leading_literals(pattern)
    assert (None if got is None else set(got)) == want


def test_every_shipped_pattern_matches_only_at_its_literals() -> None:
    lex = lexicon()
    text = " ".join(
        f"my {c.name.lower()} and no {' '.join(re.findall(r'[a-z]+', c.name.lower()))}"
        for c in lex.concepts.values()
    )
    for cid, patterns in lex.compiled.items():
        leads = lex.leads.get(cid, ())
        for i, pattern in enumerate(patterns):
            lits = leads[i] if i < len(leads) else None
            if lits is None:
                continue
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    assert any(text.startswith(lit, m.start()) for lit in lits), (cid, m.group())
