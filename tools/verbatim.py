"""What an answer may display: only sentences whose every word is in the passage they cite.

The support check (tools/answer.py) decides WHICH passage backs a sentence and lets a
sentence through when most of its content words (or its meaning) are there. That is not
enough for what is shown to a reader: a small model restates the prompt's passage heading
("Noonan syndrome — Information: Noonan syndrome is ..."), swaps a word ("disorder" for
"condition") or garbles a copy, and each of those is a claim the source does not make in
those words. So, before a supported sentence is displayed with its citation:

1. a restated heading is cut off the front (a prefix ending in ":" or a dash whose words all
   come from the cited passage's title, topic, section or citation);
2. if every word of what is left (lower-cased, exact, stop words ignored) is
   in the cited passage's text, it is displayed as it is;
3. otherwise it is replaced by the passage's own sentence it restates (the source sentence
   holding at least :data:`SNAP_SHARE` of its words, at least :data:`SNAP_MIN_WORDS`), with
   the list it introduces; a source sentence already displayed is not repeated;
4. failing that, it is not displayed.

Exact words, no stemming: a sentence displayed here passes any check that folds plurals or
stems. The ignored words are the product's stop words (``tools/words.py``: spaCy's English
list, keeping negations, numbers, quantities, modality and body sites, which must be copied).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.policy import safety
from tools.words import STOP_WORDS

SNAP_SHARE = 0.5
"""Share of a model sentence's words a source sentence must hold to stand in for it."""
SNAP_MIN_WORDS = 3
LIST_ITEMS = 6
"""List items brought along by a source sentence that introduces a list."""
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
_HEADING = re.compile(r"^(?P<head>[^:\n]{1,160}?)\s*(?::|\s[—–-]\s)\s*(?P<rest>\S.*)$", re.S)
_HEADING_WORDS = frozenset(["source", "sources", "passage", "according", "information", "about"])


def words(text: str) -> list[str]:
    """Lower-case word tokens, stop words dropped, no stemming."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in STOP_WORDS]


def copied(sentence: str, text: str) -> bool:
    """Whether every word of ``sentence`` (stop words aside) occurs in ``text``."""
    return set(words(sentence)) <= set(words(text))


def heading_of(passage: dict[str, Any]) -> set[str]:
    parts = [passage.get(k, "") for k in ("title", "topic", "section_label", "citation")]
    return set(words(" ".join(str(p) for p in parts))) | _HEADING_WORDS


def strip_heading(sentence: str, passage: dict[str, Any]) -> str:
    """``sentence`` without a restated heading at its front ("Noonan syndrome — Information:
    Noonan syndrome is ..." -> "Noonan syndrome is ...")."""
    heading = heading_of(passage)
    while True:
        m = _HEADING.match(sentence)
        if not m or not set(words(m["head"])) <= heading or not words(m["rest"]):
            return sentence
        rest = m["rest"]
        sentence = rest[0].upper() + rest[1:]


@dataclass
class _Unit:
    text: str
    words: set[str]
    items: list[str]


def units_of(text: str) -> list[_Unit]:
    """The passage's sentences and lines; a line that introduces a list ("For relief, try")
    carries the list items after it."""
    raw = safety.split_sentences(text)
    out: list[_Unit] = []
    i = 0
    while i < len(raw):
        unit = raw[i].removeprefix("- ").strip()
        i += 1
        items: list[str] = []
        if not unit.endswith((".", "!", "?")):
            while i < len(raw) and raw[i].startswith("- "):
                if len(items) < LIST_ITEMS:
                    items.append(raw[i][2:].strip().rstrip("."))
                i += 1
        out.append(_Unit(unit, set(words(" ".join([unit, *items]))), items))
    return out


def render(unit: _Unit) -> str:
    """A source unit as one displayed sentence (a list joined to its introduction)."""
    text = unit.text.rstrip(":;, ")
    if unit.items:
        text = f"{text}: {'; '.join(unit.items)}"
    return text if text.endswith((".", "!", "?")) else f"{text}."


@dataclass
class Verbatim:
    """The display gate for one answer: the full text of each passage by id."""

    texts: dict[str, str]
    shown: set[tuple[str, str]] = field(default_factory=set)
    stripped: int = 0
    snapped: int = 0
    rejected: list[str] = field(default_factory=list)
    _units: dict[str, list[_Unit]] = field(default_factory=dict)

    @classmethod
    def of(cls, passages: Sequence[dict[str, Any]]) -> Verbatim:
        return cls({str(p.get("id", "")): str(p.get("text", "")) for p in passages})

    def display(self, sentence: str, passage: dict[str, Any]) -> str | None:
        """What to display for ``sentence`` citing ``passage`` (None: nothing)."""
        pid = str(passage.get("id", ""))
        text = self.texts.get(pid, str(passage.get("text", "")))
        body = strip_heading(sentence, passage)
        if body != sentence:
            self.stripped += 1
        if words(body) and copied(body, text):
            return self._once(pid, body)
        mine = set(words(body))
        best: tuple[float, float, int] | None = None
        units = self._units.setdefault(pid, units_of(text))
        for n, unit in enumerate(units):
            shared = len(mine & unit.words)
            if shared < SNAP_MIN_WORDS or not mine:
                continue
            score = (shared / len(mine), shared / max(len(unit.words), 1), -n)
            if score[0] >= SNAP_SHARE and (best is None or score > best):
                best = score
        if best is None:
            self.rejected.append(sentence)
            return None
        self.snapped += 1
        return self._once(pid, render(units[-best[2]]))

    def _once(self, pid: str, text: str) -> str | None:
        key = (pid, " ".join(words(text)))
        if key in self.shown:
            return None
        self.shown.add(key)
        return text
