"""An identifier's check character in brackets stays with it (Hong Kong identity card numbers
are written "D699779(2)"), and a web address written without its scheme but with a path is a
URL. Texts written for these tests, not taken from any PHI set."""

from __future__ import annotations

import pytest

from assistant.policy import phi


def _found(text: str, kind: str) -> list[str]:
    return [text[s.start : s.end] for s in phi.detect(text, library=False) if s.kind == kind]


@pytest.mark.parametrize(
    ("text", "value"),
    [("HKID D699779(2) on file", "D699779(2)"), ("HKID: AB987654(A), tel on file", "AB987654(A)")],
)
def test_a_check_character_in_brackets_stays_with_its_identifier(text: str, value: str) -> None:
    assert value in _found(text, "ID") or value in "".join(_found(text, "HKID"))


@pytest.mark.parametrize(
    ("text", "url"),
    [
        (
            "book via sunrisemc.example.ca/patients/HN4471 please",
            "sunrisemc.example.ca/patients/HN4471",
        ),
        ("results at portal.example.org/r/77812.", "portal.example.org/r/77812"),
    ],
)
def test_a_web_address_without_its_scheme(text: str, url: str) -> None:
    assert any(url in f for f in _found(text, "URL")), _found(text, "URL")


@pytest.mark.parametrize("text", ["e.g. 5/10 pain", "i.e. the 2nd dose", "see NICE NG28/1.2.3"])
def test_abbreviations_and_guideline_numbers_are_no_url(text: str) -> None:
    assert _found(text, "URL") == []
