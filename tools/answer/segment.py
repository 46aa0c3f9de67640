"""Passage text as a reader sees it: headings, list items and sentences.

Consumer-health pages keep their layout in line breaks: a heading on a line of its own
("Marfan Traits"), a list introduced by a line that does not end a sentence ("As the infection
spreads, you may have") with one item per line ("- A fever", or "A tall, thin build." without a
marker), and paragraphs. So lines come first, and within a line spaCy's rule-based sentencizer
(punctuation, with the tokenizer's exceptions for abbreviations such as "Dr." and "e.g.")
splits sentences. A unit never spans two lines, so a heading is never fused into the sentence
after it and a list item never into the next paragraph.

Also here: the source's own reference markers ("... are limited.[9440]", GARD) are removed
from passage text, and a sentence that opens with a pointer to what came before ("This
condition is called scoliosis.", "These include ...") is recognised (:func:`anaphoric`), so an
answer does not show it without the sentence it points back to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

LIST_LINE_WORDS = 12
"""After a line ending in ":", the following lines of at most this many words are its list
items (NHLBI writes items without a marker: "A tall, thin build.")."""
HEADING_WORDS = 8
"""A line of at most this many words, without closing punctuation, followed by a line that is
not a list item (or by nothing) is a heading."""
_ITEM = re.compile(r"^\s*(?:[-*\u2022\u2023\u25e6]|\d{1,2}[.)])\s+")
_INLINE_ITEM = re.compile(r"(?<=[.!?:])\s+[-\u2022]\s+(?=[A-Z0-9])")
"""A list item run into its line after a sentence ("... complications. - Outbreaks ...")."""
_COLON_LIST = re.compile(r":\s+[-\u2022]\s+")
"""A list run into its line after a colon, items separated by " - "."""
_CLOSES = (".", "!", "?", ":", ";", ",")
_REFERENCE = re.compile(r"(?<=[.,;:!?)\]])\[\d{1,5}(?:\s*[,\u2013-]\s*\d{1,5})*\]")
"""A source's own reference marker, glued to the punctuation before it (".[9440]", ".[1]"):
our citation marks always follow a space."""
_ANAPHOR = re.compile(
    r"^(?:this|these|that|those|it|its|they|their|them|such|both|he|she|his|her|the latter|"
    r"the former|another|other|also|however|in addition|additionally|as a result|"
    r"for (?:this|that) reason|because of this|thus|therefore)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Unit:
    text: str
    kind: str
    """"heading", "item" (a list item) or "sentence"."""
    line: int
    intro: bool = False
    """A sentence that introduces a list (the line ends without a full stop)."""


def strip_references(text: str) -> str:
    """``text`` without the source's reference markers ("limited.[9440] Treatment" ->
    "limited. Treatment")."""
    return _REFERENCE.sub("", text)


@lru_cache(maxsize=1)
def _nlp() -> Any:
    from assistant.core.importing import explicit_spacy_factories

    with explicit_spacy_factories():  # not every installed package's factories (torch, ~5 s)
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
    return nlp


def sentences(line: str) -> list[str]:
    """The sentences of one line (spaCy's sentencizer), stripped."""
    line = line.strip()
    if not line:
        return []
    if not re.search(r"[.!?]\s+\S", line):  # one sentence: no need for the tokenizer
        return [line]
    return [s.text.strip() for s in _nlp()(line).sents if s.text.strip()]


def units(text: str) -> list[Unit]:
    """The units of a passage, in order."""
    lines = [ln.strip() for ln in strip_references(text).split("\n")]
    lines = [ln for ln in lines if ln]
    out: list[Unit] = []
    in_list = False
    for n, line in enumerate(lines):
        nxt = lines[n + 1] if n + 1 < len(lines) else ""
        next_is_item = bool(_ITEM.match(nxt))
        if _ITEM.match(line):
            out.append(Unit(_ITEM.sub("", line).strip(), "item", n))
            in_list = True
            continue
        closed = line.endswith(_CLOSES)
        heading_next = not closed and len(nxt.split()) > LIST_LINE_WORDS  # ends the list
        if in_list and len(line.split()) <= LIST_LINE_WORDS and not line.endswith(":"):
            if not heading_next:
                out.append(Unit(line, "item", n))  # an item without a marker
                continue
            in_list = False
        if not closed and not next_is_item and len(line.split()) <= HEADING_WORDS:
            out.append(Unit(line, "heading", n))
            in_list = False
            continue
        colon_list = _COLON_LIST.search(line)  # "... symptoms are: - being thirsty - ..."
        if colon_list:
            head = line[: colon_list.start() + 1]
            inline = re.split(r"\s+[-\u2022]\s+", line[colon_list.end() :])
        else:
            head, *inline = _INLINE_ITEM.split(line)  # "... complications. - Outbreaks ..."
        parts = sentences(head)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            intro = last and (part.endswith(":") or bool(inline) or next_is_item)
            out.append(Unit(part, "sentence", n, intro))
        out.extend(Unit(item.strip(), "item", n) for item in inline if item.strip())
        in_list = bool(parts) and parts[-1].endswith(":") and not inline
    return out


def anaphoric(sentence: str) -> bool:
    """Whether ``sentence`` opens by pointing back at what came before ("This condition is
    called scoliosis.", "These conditions are ...", "However, ..."); a sentence that
    introduces a list ("These resources address ...:") points forward."""
    text = sentence.strip().lstrip("-*\u2022 ").strip()
    if re.match(r"^[^.!?]*:", text):
        return False  # introduces what follows ("These resources address ...: ...")
    return bool(_ANAPHOR.match(text))


def tidy(shown: str, text: str) -> str | None:
    """``shown`` (a sentence to display, citing a passage with ``text``) without a heading or
    list items of that passage run into its front ("Marfan Traits Marfan syndrome often
    affects ...", "- A fever Lyme disease can be hard ..."); None when nothing but a heading
    or items is left."""
    marks = sorted(
        {u.text.rstrip(".;,") for u in units(text) if u.kind in ("heading", "item")},
        key=len,
        reverse=True,
    )
    out = shown.strip()
    while True:
        out = _ITEM.sub("", out).strip()
        for mark in marks:
            rest = out[len(mark) :].lstrip(" .;,")
            if out.startswith(mark) and (not rest or rest[0].isupper()):
                out = rest  # a new sentence starts after the fragment
                break
        else:
            break
    if not re.search(r"[A-Za-z]", out):
        return None
    return out[0].upper() + out[1:]


def antecedent(sentence: str, text: str) -> str | None:
    """What comes just before ``sentence`` in ``text``: the text before it in its unit, or
    the unit before (None when ``sentence`` is not in ``text``, or opens it)."""
    us = [u for u in units(text) if u.kind != "heading"]
    key = sentence.strip().rstrip(".!?").lower()
    for i, u in enumerate(us):
        at = u.text.lower().find(key) if key else -1
        if at > 0:  # inside a unit ("A spine that curves to one side. This condition is ...")
            return u.text[:at].strip()
        if at == 0:
            return us[i - 1].text if i else None
    return None
