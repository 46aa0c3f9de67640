"""Whether each concept mention is negated ("no fever", "I haven't fainted"), hedged ("I
think"), hypothetical ("if he gets a rash") or past history: medspaCy's ConText over the project's
ConText rules (``knowledge/data/nlp/context_rules.json``) plus the patient-language rules in
``data/context_rules.json``. The spaCy pipeline is blank English plus ConText: no model, built
once per process (about a second after spaCy and medspaCy are imported)."""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

from tools.triage.lexicon import Lexicon, data_dir

Status = str  # "present" | "absent" | "possible"

_LOCK = threading.Lock()
_NLP: Any = None
_NLP_DIR: Any = None


def clause_starts(text: str) -> list[int]:
    """Character offsets where a new clause starts: after . ! ? ; and newlines, and after a comma
    unless the comma continues a short list closed by "or"/"nor" ("no fever, rash or vomiting")."""
    starts = [0]
    for m in re.finditer(r"[.!?;]+\s*|\n+", text):
        starts.append(m.end())
    for m in re.finditer(r",\s*", text):
        rest = re.split(r"[.!?;\n]", text[m.end() :], maxsplit=1)[0]
        if re.match(r"(?:which|who|that)\s+(?:is|was|are|'s)\b", rest):
            continue  # a relative clause describes what came before ("…, which is normal for him")
        items = [s.strip() for s in rest.split(",")]
        listy = all(len(s.split()) <= 4 for s in items) and re.search(r"\b(?:or|nor)\b", rest)
        if not listy:
            starts.append(m.end())
    return sorted(set(s for s in starts if s < len(text)))


def _pipeline() -> Any:
    global _NLP, _NLP_DIR
    if _NLP is not None and data_dir() == _NLP_DIR:
        return _NLP
    with _LOCK:
        if _NLP is None or data_dir() != _NLP_DIR:
            from assistant.core.importing import explicit_spacy_factories, import_medspacy

            import_medspacy()  # spaCy without thinc's torch, medspaCy without QuickUMLS
            import spacy
            from spacy.language import Language

            from knowledge.nlp.lexicon import DATA_DIR as NLP_DATA
            from knowledge.nlp.pipeline import silence_medspacy
            from knowledge.nlp.rules import context_rules

            silence_medspacy()
            import medspacy.context  # noqa: F401 - registers medspacy_context

            if "clinassist_triage_clauses_v1" not in Language.factories:

                @Language.component("clinassist_triage_clauses_v1")
                def clauses(doc: Any) -> Any:
                    starts = set(clause_starts(doc.text))
                    for tok in doc:
                        tok.is_sent_start = tok.i == 0 or tok.idx in starts
                    return doc

            with explicit_spacy_factories():  # not every installed package's (torch, ~5 s)
                nlp = spacy.blank("en")
                nlp.add_pipe("clinassist_triage_clauses_v1")
                ctx: Any = nlp.add_pipe(
                    "medspacy_context",
                    config={
                        "rules": None,
                        "input_span_type": "group",
                        "span_group_name": "triage",
                        "prune_on_target_overlap": True,
                    },
                )
            ctx.add(context_rules(NLP_DATA / "context_rules.json"))
            ctx.add(context_rules(data_dir() / "context_rules.json"))
            _NLP, _NLP_DIR = nlp, data_dir()
    return _NLP


def statuses(
    text: str, matches: list[tuple[str, int, int]], lex: Lexicon
) -> list[tuple[str, Status | None]]:
    """ConText over all matches at once (overlapping spans allowed). Past history counts for
    risk factors only ("history of epilepsy"); hypothetical mentions count for nothing."""

    def risk(cid: str) -> bool:
        return lex.concepts[cid].kind == "risk"

    out: list[tuple[str, Status | None]] = [(cid, None) for cid, _s, _e in matches]
    for lo, hi in _chunks(text):
        idx = [i for i, (_c, s, _e) in enumerate(matches) if lo <= s < hi]
        if not idx:
            continue
        hi = max(hi, *(matches[i][2] for i in idx))  # a match may run past the chunk's end
        for i, status in zip(
            idx, _context(text[lo:hi], [matches[i] for i in idx], lo), strict=True
        ):
            cid = matches[i][0]
            if status == "historical":
                status = "present" if risk(cid) else None
            out[i] = (cid, status)
    return out


CHUNK_CHARS = 600


def _chunks(text: str) -> list[tuple[int, int]]:
    """Runs of whole clauses up to ~600 characters: ConText compares every target with every
    modifier of a doc, so a long letter is read in pieces (scopes never cross a clause)."""
    starts = [*clause_starts(text), len(text)]
    out: list[tuple[int, int]] = []
    lo = 0
    for a, b in itertools.pairwise(starts):
        if b - lo > CHUNK_CHARS and a > lo:
            out.append((lo, a))
            lo = a
    out.append((lo, len(text)))
    return out


def _context(text: str, matches: list[tuple[str, int, int]], offset: int) -> list[str | None]:
    nlp = _pipeline()
    with _LOCK:
        doc = nlp.make_doc(text)
        spans = []
        index = []
        for i, (cid, start, end) in enumerate(matches):
            span = doc.char_span(start - offset, end - offset, label=cid, alignment_mode="expand")
            if span is not None:
                spans.append(span)
                index.append(i)
        doc.spans["triage"] = spans
        for _name, proc in nlp.pipeline:
            doc = proc(doc)
        out: list[str | None] = [None] * len(matches)
        for i, span in zip(index, doc.spans["triage"], strict=True):
            if span._.is_hypothetical:
                out[i] = None
            elif span._.is_negated:
                out[i] = "absent"
            elif span._.is_historical:
                out[i] = "historical"
            elif span._.is_uncertain:
                out[i] = "possible"
            else:
                out[i] = "present"
        return out
