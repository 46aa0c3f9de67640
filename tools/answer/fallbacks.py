"""Answers without the model's words: a case lookup ("is there an effusion?"), the care
passage's opening lines as cited sentences, and the reading grade of a patient answer (the
quoted answer when the model declines: :mod:`tools.answer.quote`)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from assistant.policy import safety
from tools.answer.evidence import MAX_FACTS, care_text
from tools.answer.text import _ANY_CITE, content_words


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level; lower is easier. Sentences and words are counted by
    textstat; syllables by Pyphen's English hyphenation (textstat's own fallback: its CMU
    dictionary would need a download)."""
    plain = _ANY_CITE.sub("", text)
    sentences = [s for s in safety.split_sentences(plain) if re.search(r"[A-Za-z]", s)]
    if not sentences:
        return 0.0
    import textstat

    words = max(sum(int(textstat.lexicon_count(s)) for s in sentences), 1)
    syllables = sum(
        len(_hyphenator().positions(w)) + 1 for w in re.findall(r"[A-Za-z]+", plain.lower())
    )
    return round(0.39 * words / len(sentences) + 11.8 * syllables / words - 15.59, 1)


@lru_cache(maxsize=1)
def _hyphenator() -> Any:
    import pyphen

    return pyphen.Pyphen(lang="en_US")


def case_lookup(question: str, findings: list[dict[str, Any]]) -> str | None:
    """Answer "is there an effusion?" straight from this case's extracted findings (no model).

    Deterministic and exact for the commonest follow-up; the model is used only when the
    question names nothing the report mentions."""
    asked = content_words(question)
    lines: list[str] = []
    for ent in findings[-MAX_FACTS:]:
        if str(ent.get("label", "")).upper() != "FINDING":
            continue
        text = safety.neutralize(str(ent.get("text", "")))[0][:120]
        if not asked & content_words(text):
            continue
        qualifiers = [
            str(ent[k])
            for k in ("severity", "laterality", "size")
            if ent.get(k) and str(ent[k]).lower() not in text.lower()
        ]
        text = " ".join([*qualifiers, text])
        where = f" ({ent['section']})" if ent.get("section") else ""
        if ent.get("negated"):
            line = f"Negated in the report{where}: no {text}."
        elif ent.get("uncertain"):
            line = f"Possible (uncertain) in the report{where}: {text}."
        elif ent.get("historical"):
            line = f"In the history{where}: {text}."
        else:
            line = f"Present in the report{where}: {text}."
        if line not in lines:
            lines.append(line)
    return " ".join(lines) if lines else None


def care_sentences(text: str, number: int) -> list[str]:
    """A care passage's opening lines as cited sentences (list items joined to their
    introduction: "See a doctor if you have: fever; stiff neck.")."""
    out: list[str] = []
    for line in care_text(text).split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("- ") and out:
            joiner = " " if out[-1].endswith(":") else "; "
            out[-1] = f"{out[-1].rstrip('.')}{joiner}{line[2:]}"
        else:
            out.append(line if line.endswith((".", "!", "?", ":")) else f"{line}:")
    return [f"{o.rstrip(':;')}{'' if o[-1] in '.!?' else '.'} [{number}]" for o in out]
