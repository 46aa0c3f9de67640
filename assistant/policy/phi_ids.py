"""Identifiers by shape and context: a code mixing capital letters and digits, six characters or
more, near a word that says an identifier is meant, or on a record's header line.

The labelled-identifier rules (``assistant/data/phi_rules.yaml``) read a value right after its
label and want four or five digits in it; record systems also issue short codes with few digits
("8G7KQ2", "QX7-KP2M") and people write them a few words after the label ("Transmitter ID for
the new sensor: ..."). This recognizer takes such a code when

- an identifier cue (the rules' ``ID_CUE`` list: MRN, hospital number, reference, member,
  serial, order, claim, ... in several languages) stands at most five words before it on the
  same line, or
- its line is a record header: it holds a date-of-birth, MRN or NHS label, or fields divided by
  ``|``.

After a label (not on a header line alone) a value of digit groups is taken too: five digits
or more with a group of four or more, joined by spaces, hyphens, slashes or ``#``, with a
letter prefix or suffix ("0042 8817", "IP/25/118832", "CHB 2289174", "12-050123456-7"); labels
of more health systems are listed in ``phi_id_shapes.yaml`` (``more_cues``).

Clinical codes of the same shape are guarded by their structure and an allow-list
(``assistant/data/phi_id_shapes.yaml``): a dose with its unit ("500MG"), letters ending in one
or two digits (gene, antigen and score names: "BRCA1", "COVID19", "HER2"), and the listed terms
("CYP2D6", "CHA2DS2", "HLA-B27").
"""

from __future__ import annotations

import re
from functools import lru_cache

_CODE = re.compile(
    r"(?<![\w./-])(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9](?:-?[A-Z0-9]){5,23}(?![\w/-]|\.\d)"
)
_GROUPS = re.compile(
    r"(?<![\w./#-])(?:[A-Z]{1,6}[-/# ]?)?\d+(?:[-/# ]\d+){0,3}(?:[-/ ][A-Z]{1,2})?(?![\w/-]|[.,]\d)"
)
_UNIT_AFTER = re.compile(
    r"\s*(?:%|mg|mcg|g\b|ml|l\b|mmol|umol|iu|units?|kg|cm|mm|bpm|x\b|times|/)", re.I
)
_HEADER = re.compile(r"\b(?:DOB|D\.O\.B|MRN|NHS|date of birth)\b|\|", re.I)
_WINDOW_WORDS = 5


@lru_cache(maxsize=1)
def _guards() -> tuple[re.Pattern[str], re.Pattern[str], frozenset[str]]:
    from assistant.policy.phi import _data

    rules = _data("phi_rules.yaml")
    cue = rules["macros"]["ID_CUE"]
    shapes = _data("phi_id_shapes.yaml")
    more = "|".join(re.escape(c).replace("\\ ", r"\s+") for c in shapes["more_cues"])
    cue_re = re.compile(rf"\b(?:{cue}|{more})\b\.?", re.I)
    clinical = re.compile("|".join(f"(?:{p})" for p in shapes["clinical_shapes"]))
    allowed = frozenset(t.upper() for t in shapes["clinical_codes"])
    return cue_re, clinical, allowed


def spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each code taken as an identifier in ``text``."""
    if not any(ch.isdigit() for ch in text):
        return []
    out: list[tuple[int, int]] = []
    cue_re, clinical, allowed = _guards()
    for m in _CODE.finditer(text):
        code = m.group()
        if code.upper() in allowed or clinical.fullmatch(code):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        before = text[line_start : m.start()]
        window = " ".join(before.split()[-_WINDOW_WORDS:])
        if cue_re.search(window) or _HEADER.search(line):
            out.append(m.span())
    for m in _GROUPS.finditer(text):
        start, value = m.start(), m.group()
        prefix = re.match(r"[A-Z]+", value)
        if (
            prefix
            and value[len(prefix.group()) : len(prefix.group()) + 1] == " "
            and cue_re.fullmatch(prefix.group())
        ):  # "NHIS 04477128": the label itself, not part of the value ("REQ#77410298" is)
            start += len(prefix.group()) + 1
            value = text[start : m.end()]
        numbers = re.findall(r"\d+", value)
        if not numbers or sum(map(len, numbers)) < 5 or max(map(len, numbers)) < 4:
            continue
        if _UNIT_AFTER.match(text, m.end()) or _date_like(value):
            continue
        line_start = text.rfind("\n", 0, start) + 1
        window = " ".join(text[line_start:start].split()[-_WINDOW_WORDS:])
        cues = list(cue_re.finditer(window))
        if cues and not any(ch.isdigit() for ch in window[cues[-1].end() :]):
            out.append((start, m.end()))
    return out


def _date_like(value: str) -> bool:
    """A value the date rules read ("12/03/2024", "2024-03-12"): not taken as an identifier."""
    from assistant.policy.phi_checks import calendar_date

    return bool(re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", value)) and calendar_date(value)
