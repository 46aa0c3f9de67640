"""The composer: checks the model's sentences as they stream in, keeps the supported ones with
renumbered citations, and lists the cited passages."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.policy import safety
from tools.answer.segment import anaphoric, antecedent, tidy
from tools.answer.support import _META, _REFERRAL, SupportChecker, is_claim
from tools.answer.text import _ANY_CITE, content_words
from tools.verbatim import Verbatim

_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,3}\])*\s+|\n+")


@dataclass
class Composer:
    """Checks sentences as they stream in and keeps the accepted ones, renumbering citations."""

    checker: SupportChecker
    mode: str
    emit: Callable[[str], None] | None = None
    kept: list[str] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # passage indices (0-based) in citation order
    claims: int = 0
    supported: int = 0
    removed: list[str] = field(default_factory=list)
    invalid_citations: int = 0
    moved_citations: int = 0
    scrubbed: int = 0
    dropped: list[str] = field(default_factory=list)  # short non-claims that were not referrals
    deferred: list[str] = field(default_factory=list)  # patient-mode referrals, shown last
    verbatim: Verbatim | None = None
    """The display gate (tools/verbatim.py): a passage-cited sentence is shown only in the
    passage's own words. Without it, supported sentences are shown as written."""
    _last: tuple[int, str] | None = None
    """The evidence index and text of the last sentence shown from a passage."""

    def _number(self, idx: int) -> int:
        if idx not in self.order:
            self.order.append(idx)
        return self.order.index(idx) + 1

    def add(self, raw: str) -> None:
        sentence = raw.strip()
        if not sentence:
            return
        n_passages = len(self.checker.passages)
        cited: list[int] = []
        for group in _ANY_CITE.findall(sentence):
            for num in re.split(r"\s*,\s*", group):
                n = int(num)
                if 1 <= n <= n_passages:
                    if n - 1 not in cited:
                        cited.append(n - 1)
                else:
                    self.invalid_citations += 1
        plain = re.sub(r"\s+([.,;!?])", r"\1", _ANY_CITE.sub("", sentence)).strip()
        if not plain or re.fullmatch(r"\W*", plain):
            return
        if self.mode == "patient" and (
            safety.dosing_sentences(plain) or safety.diagnosis_sentences(plain)
        ):
            self.scrubbed += 1
            return
        if not is_claim(plain) and not (cited and content_words(plain)):
            if (
                _META.search(plain)
                and not safety.is_injection(plain)
                and len(content_words(plain)) <= 14
            ):
                if self.verbatim is not None and self.mode == "patient":
                    # uncited text in a patient answer: only a plain referral ("Talk to your
                    # pharmacist."), shown after the cited sentences (finish())
                    if _REFERRAL.match(plain) and plain not in self.deferred:
                        self.deferred.append(plain)
                    else:
                        self.dropped.append(plain)
                    return
                self._keep(plain)  # a referral or hedge: allowed without a source
            elif content_words(plain):
                # anything else must be supported: a restated case fact ("the report says there
                # is no pneumothorax") is kept when the evidence backs it, dropped otherwise
                hit = self.checker.best(plain, list(range(len(self.checker.texts))))
                shown = None if hit is None else self._shown(plain, hit)
                if hit is None or shown is None or safety.is_injection(plain):
                    self.dropped.append(plain)
                else:
                    self.supported += 1
                    mark = f" [{self._number(hit)}]" if hit < n_passages else ""
                    body, end = (shown[:-1], shown[-1]) if shown[-1] in ".!?" else (shown, "")
                    self._keep(f"{body}{mark}{end}")
            return
        self.claims += 1  # a claim, or a short statement that cites a source: both are checked
        use: list[int] = []
        if cited:
            hit = self.checker.best(plain, cited)
            if hit is not None:
                use = [hit]
        if not use:
            everything = list(range(len(self.checker.texts)))
            hit = self.checker.best(plain, everything)
            if hit is None:
                self.removed.append(plain)
                return
            if cited:
                self.moved_citations += 1
            use = [hit]
        shown = self._shown(plain, use[0])
        if shown is None:
            self.removed.append(plain)
            return
        self.supported += 1
        marks = "".join(f" [{self._number(i)}]" for i in use if i < n_passages)
        body = shown
        end = ""
        if body and body[-1] in ".!?":
            body, end = body[:-1], body[-1]
        self._keep(f"{body}{marks}{end}")

    def _shown(self, plain: str, hit: int) -> str | None:
        """What is displayed for ``plain`` backed by evidence ``hit``: through the display
        gate when it cites a passage; case facts and an ungated composer keep the text."""
        if self.verbatim is None or hit >= len(self.checker.passages):
            return plain
        passage = self.checker.passages[hit]
        shown = self.verbatim.display(plain, passage)
        if shown is None:
            return None
        full = self.verbatim.texts.get(str(passage.get("id", "")), str(passage.get("text", "")))
        shown = tidy(shown, full)
        if shown is None or (anaphoric(shown) and not self._follows(shown, hit, full)):
            return None  # a heading or list fragment alone, or "This ..." without its antecedent
        self._last = (hit, shown)
        return shown

    def _follows(self, shown: str, hit: int, text: str) -> bool:
        """Whether the sentence shown just before ``shown`` is what it points back to: the
        unit before it in the passage, or (when it is not a unit of it) a sentence of the
        same passage."""
        if self._last is None or self._last[0] != hit:
            return False
        before = antecedent(shown, text)
        return before is None or content_words(before) <= content_words(self._last[1])

    def finish(self) -> None:
        """Show the deferred referrals (after every cited sentence)."""
        for sentence in self.deferred:
            self._keep(sentence)
        self.deferred = []

    def _keep(self, sentence: str) -> None:
        self.kept.append(sentence)
        if self.emit is not None:
            self.emit(("" if len(self.kept) == 1 else " ") + sentence)

    @property
    def text(self) -> str:
        return " ".join(self.kept).strip()


def _sentences_from_stream(pieces: Any) -> Any:
    """Yield complete sentences (with their trailing citation marks) from streamed text pieces."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        while True:
            m = _SENTENCE_END.search(buffer)
            if not m:
                break
            yield buffer[: m.end()]
            buffer = buffer[m.end() :]
    if buffer.strip():
        yield buffer


def citations(cited: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cited passages as the answer lists them (a sectioned passage is cited by who wrote it:
    "NIDDK: Kidney stones — Symptoms")."""
    return [
        {
            "id": p["id"],
            "source": p.get("source", ""),
            "title": p.get("citation") if p.get("section") else p.get("title", ""),
            "url": p.get("url"),
        }
        for p in cited
    ]


def _gate_counts(*composers: Composer) -> dict[str, int]:
    """What the display gate did, over the model's and the quoting composer."""
    gates = list({id(c.verbatim): c.verbatim for c in composers if c.verbatim}.values())
    return {
        "heading_stripped": sum(g.stripped for g in gates),
        "replaced_by_source_sentence": sum(g.snapped for g in gates),
        "not_shown": sum(len(g.rejected) for g in gates),
    }
