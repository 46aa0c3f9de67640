"""generate_answer: an answer grounded in this turn's retrieved passages and the case's tool
results; says "I don't know" (without calling the model) when there is no evidence.

The pipeline, in order:

1. Evidence: passages from this turn's ``search_knowledge`` calls (not abstained), at most
   :data:`MAX_PASSAGES`, plus the case's findings and image results as short fact lines. Any
   instruction-like text inside them is defanged (:func:`assistant.policy.safety.neutralize`). The
   passages are cut down to the sentences that best match the question
   (:data:`EVIDENCE_CHARS` in all, :func:`focus_passages`): the prompt's length sets the time
   to the first token on a small CPU.
2. No evidence: the "I don't know" text, without calling the model.
3. Generation from a short prompt (``assistant/policy/prompts/answer_<mode>.md``).
4. Sentence by sentence, as the model streams: citations ``[n]`` that point at no retrieved
   passage are dropped; every claim must be supported by the passage it cites (or, failing
   that, by another passage or a case fact, which then becomes its citation); unsupported
   sentences are removed. In patient mode, sentences with a dose, a schedule, a medication
   change or an individual diagnosis are removed too. Only checked sentences are streamed.
5. Citations are renumbered in order of first use, so ``[1]`` in the answer is the first entry
   of ``citations``.
6. When the model declines ("I don't know") although the question names a retrieved
   passage's title in full, that passage's own definition sentences go through step 4 instead
   (``method: "definition"``): the small local model declines many questions its evidence
   answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from assistant.core.embeddings import Embedder, HashingEmbedder, build_embedder
from assistant.core.llm import LLM, build_llm
from assistant.core.state import Message
from assistant.policy import messages, safety
from tools.base import ToolContext, tool
from tools.verbatim import Verbatim

_CITE = re.compile(r"\s*\[(\d{1,3})\]")
_ANY_CITE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
MAX_PASSAGES = 3
MAX_PASSAGE_CHARS = 1400
"""Passage text kept per retrieved passage (a consumer-health passage part is at most 1,400
characters); the model sees only the focused sentences (:data:`EVIDENCE_CHARS`)."""
CARE_CHARS = 300
"""Characters of a topic's "when to see a doctor" passage added to a patient-mode answer."""
EVIDENCE_CHARS = 600
"""Passage text in the model prompt, all sources together. On 2 cores the local model reads a
prompt at ~150-250 tokens/s, so the prompt's length sets the time to the first token: the
sentences that best match the question are kept (:func:`focus_passages`)."""
FIRST_SENTENCE_BONUS = 0.15
"""A passage's opening sentence is usually its definition: prefer it over a later one."""
RANK_PENALTY = 0.05
"""Per retrieval rank: at equal match, a sentence from a better-ranked passage goes first."""
MAX_FACTS = 20
ANSWER_MAX_TOKENS = 160
DEFINITION_SENTENCES = 2
"""Sentences quoted from a named term's passage when the model declines (definition_sentences)."""
# Support thresholds: share of a sentence's content words found in the evidence.
LEXICAL_SUPPORT = 0.6
LEXICAL_WITH_EMBEDDING = 0.34
EMBEDDING_SUPPORT = 0.75
MIN_CLAIM_WORDS = 3

_STOP_WORDS = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    yours may might must often usually sometimes people person someone one ones thing things get
    gets got make makes made like also however therefore thus e.g i.e etc"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_META = re.compile(
    r"\b(talk|speak|ask|see|contact|call|check\s+with|visit|go\s+to)\s+(to\s+|with\s+)?(a|an|your|the|local)\s+"
    r"(own\s+)?(doctor|gp|pharmacist|nurse|clinician|specialist|health\s*care|emergency|urgent\s+care|nurse\s+line)"
    r"|\bnot\s+a\s+diagnosis\b|\bdecision\s+support\b",
    re.IGNORECASE,
)
_REFERRAL = re.compile(
    r"^(?:please\s+)?(?:talk|speak|ask|see|call|contact|check)\b[^.?!]{0,80}\b(?:doctor|gp|"
    r"pharmacist|nurse|health\s*care\s+provider|provider|clinician)\b[^.?!]{0,60}[.!]?$",
    re.IGNORECASE,
)
"""A sentence that is only a referral, verb first ("Talk to your pharmacist.")."""
_DONT_KNOW = re.compile(r"^\W*i\s+(do\s+not|don.?t)\s+know\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,3}\])*\s+|\n+")


def prompt(mode: str) -> str:
    return (
        resources.files("assistant.policy.prompts")
        .joinpath(f"answer_{mode}.md")
        .read_text(encoding="utf-8")
        .strip()
    )


def _stem(word: str) -> str:
    """A light stemmer: migraines/migraine, caused/causes, breathing/breathe meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def content_words(text: str) -> set[str]:
    """Lower-case, lightly stemmed content words (stop words and citation marks removed)."""
    text = _ANY_CITE.sub(" ", text.lower())
    return {_stem(w) for w in _WORD.findall(text) if w not in _STOP and (len(w) > 2 or w.isdigit())}


def passages_from(ctx: ToolContext) -> tuple[list[dict[str, Any]], bool]:
    """Passages retrieved in this turn that are strong enough to answer from (defanged), and
    whether any of them carried an injected instruction."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    injected = False
    for call in ctx.turn_calls:
        if call.name != "search_knowledge" or not call.ok or not call.result:
            continue
        if call.result.get("abstain"):
            continue
        for passage in call.result.get("results", []):
            pid = str(passage.get("id", ""))
            if not pid or pid in seen:
                continue
            seen.add(pid)
            text, changed = safety.neutralize(str(passage.get("text", ""))[: MAX_PASSAGE_CHARS * 2])
            injected = injected or changed
            found.append(dict(passage, id=pid, text=text[:MAX_PASSAGE_CHARS]))
            if len(found) >= MAX_PASSAGES:
                return found, injected
    return found, injected


class _MemoEmbedder:
    """Remembers vectors for one answer, so the evidence sentences embedded to focus the prompt
    are not embedded again by the support check."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


def semantic(embedder: Embedder | None) -> bool:
    """Whether ``embedder`` captures meaning (the hashing fallback only sees shared strings)."""
    return embedder is not None and not isinstance(embedder, HashingEmbedder)


def focus_passages(
    question: str,
    passages: list[dict[str, Any]],
    embedder: Embedder | None = None,
    budget: int = EVIDENCE_CHARS,
) -> list[dict[str, Any]]:
    """The passages cut down to the sentences that best answer ``question``, ``budget``
    characters of text in all, in their original order; passages left with nothing are
    dropped. The top passage's opening sentence is always kept. Sentences are scored by the
    share of the question's content words they hold plus, with a semantic embedder, their
    cosine to the question."""
    units = [
        (pi, si, sentence)
        for pi, p in enumerate(passages)
        for si, sentence in enumerate(safety.split_sentences(str(p.get("text", ""))))
    ]
    if not units or sum(len(u[2]) + 1 for u in units) <= budget:
        return passages
    asked = content_words(question)
    scores = np.array(
        [
            len(asked & content_words(s)) / max(len(asked), 1)
            + (FIRST_SENTENCE_BONUS if si == 0 else 0.0)
            - RANK_PENALTY * pi
            for pi, si, s in units
        ]
    )
    if semantic(embedder):
        assert embedder is not None
        try:
            vecs = embedder.embed([question] + [s for _, _, s in units])
            scores = scores + vecs[1:] @ vecs[0]
        except Exception:  # scoring falls back to word overlap
            pass
    chosen: dict[int, str] = {}
    used = 0
    for i in [0, *np.argsort(-scores, kind="stable").tolist()]:
        sentence = units[i][2]
        if i in chosen or (chosen and used + len(sentence) + 1 > budget):
            continue
        chosen[i] = sentence[:budget]
        used += len(chosen[i]) + 1
    focused = []
    for pi, passage in enumerate(passages):
        kept = [chosen[i] for i, u in enumerate(units) if u[0] == pi and i in chosen]
        if kept:
            focused.append(dict(passage, text=" ".join(kept)))
    return focused


def case_facts(ctx: ToolContext) -> list[str]:
    """The case's findings and image results as short factual lines (defanged)."""
    facts: list[str] = []
    for ent in ctx.case.get("findings", [])[-MAX_FACTS:]:
        # Whole sentences: the small local model answers from these far more reliably than
        # from "label: text (status)" fragments, which it tends to answer "I don't know" to.
        text = safety.neutralize(str(ent.get("text", "")))[0][:120]
        section = f" ({ent['section']} section)" if ent.get("section") else ""
        label = str(ent.get("label", "ENTITY")).lower()
        if ent.get("negated"):
            facts.append(f"The report{section} says there is no {text}.")
        elif ent.get("uncertain"):
            facts.append(f"The report{section} says {text} is possible but uncertain.")
        elif ent.get("historical"):
            facts.append(f"The report{section} mentions {text} in the patient's history.")
        elif label == "finding":
            facts.append(f"The report{section} says {text} is present.")
        else:
            facts.append(f"The report{section} mentions {label} {text}.")
    for img in ctx.case.get("images", [])[-4:]:
        if img.get("in_distribution") is False:
            facts.append(
                f"The image {img.get('name', '')} was not assessed "
                f"({img.get('reason', 'out of scope')})."
            )
        elif img.get("label"):
            prob = img.get("probabilities", {}).get(img["label"])
            p = f" (model probability {prob:.2f})" if isinstance(prob, float) else ""
            facts.append(f"The image model labelled {img.get('name', '')} as {img['label']}{p}.")
    return facts


def build_messages(
    question: str, passages: list[dict[str, Any]], facts: list[str], mode: str
) -> list[Message]:
    """The model prompt: fixed rules (system), then this case's evidence and the question."""
    parts = []
    if passages:
        parts.append("Sources:")
        for i, p in enumerate(passages, 1):
            parts.append(f"[{i}] {p.get('title', '')}: {p.get('text', '')}")
    if facts and mode == "clinician":
        parts.append("Case facts (from this case's reports and images):")
        parts.extend(f"- {f}" for f in facts)
    parts.append(f"Question: {safety.neutralize(question)[0]}")
    return [
        {"role": "system", "content": prompt(mode)},
        {"role": "user", "content": "\n".join(parts)},
    ]


@dataclass
class SupportChecker:
    """Decides whether a sentence is supported by the evidence (lexical overlap, and sentence
    embeddings where a semantic embedder is available)."""

    passages: list[dict[str, Any]]
    facts: list[str]
    embedder: Embedder | None = None
    _vecs: np.ndarray | None = field(default=None, init=False, repr=False)
    _owner: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=int), init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.texts = [
            f"{p.get('title', '')}. {p.get('text', '')}" for p in self.passages
        ] + self.facts
        self.words = [content_words(t) for t in self.texts]
        self.numbers = [set(_NUMBER.findall(t)) for t in self.texts]

    def _cosines(self, sentence: str) -> np.ndarray | None:
        if not semantic(self.embedder) or not self.texts:
            return None
        assert self.embedder is not None
        try:
            if self._vecs is None:
                # one row per evidence sentence; an evidence text scores its best sentence
                units = [
                    (i, u)
                    for i, t in enumerate(self.texts)
                    for u in safety.split_sentences(t) or [t]
                ]
                self._owner = np.array([i for i, _ in units])
                self._vecs = self.embedder.embed([u for _, u in units])
            vec = self.embedder.embed([_ANY_CITE.sub("", sentence)])[0]
        except Exception:  # an embedder failure falls back to the lexical check
            self.embedder = None
            return None
        sims = np.asarray(self._vecs @ vec)
        best = np.full(len(self.texts), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, sims)
        return best

    def score(self, sentence: str, index: int, cos: np.ndarray | None) -> float:
        words = content_words(sentence)
        if not words:
            return 1.0
        if not set(_NUMBER.findall(_ANY_CITE.sub(" ", sentence))) <= self.numbers[index]:
            return 0.0  # a number the evidence does not contain is never supported
        lexical = len(words & self.words[index]) / len(words)
        if lexical >= LEXICAL_SUPPORT:
            return lexical
        if (
            cos is not None
            and lexical >= LEXICAL_WITH_EMBEDDING
            and float(cos[index]) >= EMBEDDING_SUPPORT
        ):
            return LEXICAL_SUPPORT
        return lexical

    def best(self, sentence: str, candidates: list[int]) -> int | None:
        """The best-supporting evidence index among ``candidates`` (None: unsupported)."""
        cos = self._cosines(sentence)
        best, best_score = None, 0.0
        for i in candidates:
            s = self.score(sentence, i, cos)
            if s >= LEXICAL_SUPPORT and s > best_score:
                best, best_score = i, s
        return best


def is_claim(sentence: str) -> bool:
    """A sentence that states something checkable (not a question, hedge or referral)."""
    plain = _ANY_CITE.sub("", sentence).strip()
    if plain.endswith("?") or (_META.search(plain) and len(content_words(plain)) <= 14):
        return False
    return len(content_words(plain)) >= MIN_CLAIM_WORDS


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
        return self.verbatim.display(plain, self.checker.passages[hit])

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


def _dont_know(mode: str) -> str:
    return messages.DONT_KNOW_PATIENT if mode == "patient" else messages.DONT_KNOW


def _patient_tail() -> str:
    """What a triage nurse asks next, and where to get care (patient mode)."""
    return f"{messages.TRIAGE_QUESTIONS}\n\n{messages.CARE_LEVELS}"


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


_LIST_LINE = re.compile(r"^(also called|a type of)\s*:", re.IGNORECASE)
_XREF = re.compile(r"\s*\{[^{}]*\}")
"""Ontology cross-reference annotations left in some HPO definitions ({xref="PMID:..."})."""


def definition_sentences(question: str, passages: Sequence[dict[str, Any]]) -> list[str]:
    """The first retrieved passage whose title the question names in full ("what is
    asthma?" and a passage titled "Asthma"), as its own definition sentences with its citation
    (at most :data:`DEFINITION_SENTENCES`); [] when no passage is named that way.

    Used when the small model declines although the named term's passage is in front of it:
    the source's words, checked like any model sentence, instead of "I don't know"."""
    asked = content_words(question)
    for n, passage in enumerate(passages, 1):
        title = str(passage.get("title", ""))
        named = content_words(title)
        if not named or not named <= asked or passage.get("section"):
            continue  # sectioned (consumer) passages: tools/extract.py
        out: list[str] = []
        for sentence in safety.split_sentences(_XREF.sub("", str(passage.get("text", "")))):
            words = content_words(sentence)
            if not words or words <= named or _LIST_LINE.match(sentence):
                continue  # the bare title, or a synonym/parent list
            if sentence[-1] not in ".!?":
                sentence += "."
            # A definition that does not name its term gets the title: "Gout: Recurrent ..."
            if not out and not named <= words:
                sentence = f"{title}: {sentence}"
            out.append(f"{sentence} [{n}]")
            if len(out) >= DEFINITION_SENTENCES:
                break
        if out:
            return out
    return []


def care_passage(ctx: ToolContext, passages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The "when to see a doctor" passage this turn's search returned for its top consumer
    topic (``care`` in the search_knowledge result), defanged; None if there is none."""
    for call in ctx.turn_calls:
        if call.name != "search_knowledge" or not call.ok or not call.result:
            continue
        care = call.result.get("care")
        if care and care.get("id"):
            text, _ = safety.neutralize(str(care.get("text", ""))[: MAX_PASSAGE_CHARS * 2])
            return dict(care, text=text[:MAX_PASSAGE_CHARS])
    return None


def care_text(text: str, budget: int = CARE_CHARS) -> str:
    """The opening lines of a care passage, whole lines, about ``budget`` characters."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and sum(len(x) + 1 for x in out) + len(line) > budget:
            break
        out.append(line)
    return "\n".join(out)


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


@tool
def generate_answer(question: str, *, ctx: ToolContext) -> dict[str, Any]:
    """Answer a question from this turn's retrieved passages and the case's findings, with
    citations; says it does not know when the evidence is not there."""
    passages, injected = passages_from(ctx)
    facts = case_facts(ctx)
    base: dict[str, Any] = {"injection_ignored": injected, "mode": ctx.mode}
    if ctx.mode == "patient":
        base["triage"] = _patient_tail()
    if not passages and not facts:
        text = _dont_know(ctx.mode)
        return base | {
            "answer": text,
            "grounded": False,
            "citations": [],
            "evidence": 0,
            "needs_review": True,
            "dont_know": "no_evidence",
            "support": {"claims": 0, "supported": 0, "removed": 0},
            "removed": 0,
        }
    if not passages and ctx.mode == "clinician":
        looked_up = case_lookup(question, ctx.case.get("findings", []))
        if looked_up:
            return base | {
                "answer": looked_up,
                "grounded": True,
                "citations": [],
                "evidence": len(facts),
                "method": "case_lookup",
                "support": {"claims": 0, "supported": 0, "removed": 0},
                "removed": 0,
            }
    llm: LLM = ctx.resources.get("llm", lambda: build_llm(ctx.settings))
    embedder: Embedder | None
    try:
        embedder = ctx.resources.get("embedder", lambda: build_embedder(ctx.settings))
    except Exception:  # focusing and the support check still work lexically
        embedder = None
    if semantic(embedder):
        assert embedder is not None
        embedder = _MemoEmbedder(embedder)
    care = care_passage(ctx, passages) if ctx.mode == "patient" else None
    if care:
        passages = [p for p in passages if p["id"] != care["id"]]
    full = passages + ([care] if care else [])
    if ctx.mode == "clinician":
        from tools.extract import DIFFERENTIAL, differential_answer

        if DIFFERENTIAL.search(question):  # no differential source: say so, quote causes
            return base | differential_answer(question, full, embedder, ctx.on_token)
    passages = focus_passages(question, passages, embedder)
    if care:
        passages.append(dict(care, text=care_text(str(care["text"]))))
    checker = SupportChecker(passages, facts if ctx.mode == "clinician" else [], embedder)
    composer = Composer(checker, ctx.mode, emit=ctx.on_token, verbatim=Verbatim.of(full))
    stream = llm.stream(
        build_messages(question, passages, facts, ctx.mode), max_tokens=ANSWER_MAX_TOKENS
    )
    model_said_dont_know = False
    for i, sentence in enumerate(_sentences_from_stream(stream)):
        if i == 0 and _DONT_KNOW.match(sentence):
            model_said_dont_know = True
            break
        composer.add(sentence)
    method = "model"
    model_composer = composer
    if model_said_dont_know or not composer.supported:
        # the small model declines many questions its evidence answers: quote the source's
        # best-matching section instead (checked like model text), from the full passages
        quoted = definition_sentences(question, full)
        kind = "definition"
        if not quoted:
            from tools.extract import section_sentences

            quoted, kind = section_sentences(question, full, content_words, reading_grade)
        if quoted:
            fallback = Composer(
                SupportChecker(full, [], embedder),
                ctx.mode,
                emit=ctx.on_token,
                verbatim=Verbatim.of(full),
            )
            for sentence in quoted:
                fallback.add(sentence)
            if fallback.supported:
                composer, passages, checker = fallback, full, fallback.checker
                model_said_dont_know, method = False, kind
    if care and composer.supported and len(passages) - 1 not in composer.order:
        idx = len(passages) - 1  # the care passage is always the last one
        for sentence in care_sentences(str(passages[idx]["text"]), idx + 1):
            composer.add(sentence)
    composer.finish()
    answer = composer.text
    grounded = bool(answer) and composer.supported > 0 and not model_said_dont_know
    why = (
        None
        if grounded
        else "model_said_dont_know"
        if model_said_dont_know
        else "nothing_supported"
    )
    if not grounded:
        answer = _dont_know(ctx.mode)
    cited = [passages[i] for i in composer.order]
    removed = len(composer.removed) + (
        len(model_composer.removed) if composer is not model_composer else 0
    )
    result = base | {
        "answer": answer,
        "grounded": grounded,
        "citations": citations(cited),
        "evidence": len(passages) + len(facts),
        "model": llm.name,
        "method": method,
        "support": {
            "claims": composer.claims,
            "supported": composer.supported,
            "removed": removed,
            "removed_sentences": (composer.removed or model_composer.removed)[:5],
            "invalid_citations": composer.invalid_citations,
            "moved_citations": composer.moved_citations,
            "scrubbed": composer.scrubbed,
            "dropped": len(composer.dropped),
            "verbatim": _gate_counts(model_composer, composer),
            "method": f"lexical+{checker.embedder.name}"
            if checker.embedder is not None and semantic(checker.embedder)
            else "lexical",
        },
        "removed": removed,
        "dont_know": why,
        "needs_review": (not grounded) or removed > 0 or composer.invalid_citations > 0,
    }
    if ctx.mode == "patient":
        result["reading_grade"] = reading_grade(composer.text)
    return result
