"""spaCy components of the report pipeline (registered factories with versioned names).

- ``clinassist_sentences`` — a rule-based report sentence splitter (headers, list items, blank
  lines, wrapped lines); PyRuSH gives nearly the same boundaries at ~1/8 of the speed.
- ``clinassist_lexicon`` — greedy leftmost-longest match of the compiled lexicon, plus
  measurements by regular expression; sets ``doc.ents`` and the concept of each span.
- ``clinassist_abbreviations`` — short forms a report defines itself ("pleural effusion (PE)",
  found by scispaCy's AbbreviationDetector) take the concept of their long form.
- ``clinassist_attributes`` — laterality, severity, change and size near each finding.
"""

import re
from bisect import bisect_right
from typing import Any

from spacy.attrs import IDX, IS_SPACE, LOWER, ORTH
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from knowledge.nlp.lexicon import CompiledLexicon

SPAN_EXTENSIONS: dict[str, Any] = {
    "ca_normalized": None,
    "ca_code": None,
    "ca_source": None,
    "ca_expanded": None,
    "ca_laterality": None,
    "ca_severity": None,
    "ca_change": None,
    "ca_size": None,
}
for _name, _default in SPAN_EXTENSIONS.items():
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=_default)

_SENT_END = {".", "?", "!", "..", "...", "?.", "!."}
_NO_SPLIT_BEFORE = {"dr", "mr", "mrs", "ms", "vs", "approx", "no", "st", "e.g", "i.e"}
_LIST_MARK = re.compile(r"^(\d{1,2}[.)]?|[-*•])$")


def _is_header_word(text: str) -> bool:
    return len(text) > 1 and text.isalpha() and text.isupper()


@Language.component("clinassist_sentences_v1")
def split_sentences(doc: Doc) -> Doc:
    """Sentence starts from report layout: blank lines, line-start headers and list items,
    sentence punctuation before a capital/digit, a header's colon, and ``//``.

    Works on token arrays and only marks sentence starts (other tokens stay unset, which spaCy
    reads as "inside a sentence"): touching every Token object was the slow part."""
    n = len(doc)
    if n == 0:
        return doc
    arr = doc.to_array([ORTH, IDX, IS_SPACE])
    strings = doc.vocab.strings
    words = [strings[int(h)] for h in arr[:, 0]]
    idx = [int(i) for i in arr[:, 1]]
    space = [bool(x) for x in arr[:, 2]]
    text = doc.text
    starts = [0]
    started = {0}
    prev = 0
    line_start_header = _is_header_word(words[0])
    for i in range(1, n):
        if space[i]:
            continue
        w = words[i]
        pw = words[prev]
        gap = text[idx[prev] + len(pw) : idx[i]]
        start = False
        first = w[0]
        if "\n" in gap or "\r" in gap:
            if (
                w == "//"
                or gap.count("\n") >= 2
                or pw in _SENT_END
                or pw == ":"
                or _is_header_word(w)
                or _LIST_MARK.match(w)
            ):
                start = True
            line_start_header = _is_header_word(w)
        elif w == "//":  # MIMIC-style separator between indication and question
            start = True
        elif pw in _SENT_END and (first.isupper() or first.isdigit() or first == "_"):
            before = words[prev - 1].lower() if prev > 0 else ""
            list_item = prev > 0 and before.isdigit() and (prev - 1) in started
            start = not list_item and (before not in _NO_SPLIT_BEFORE or pw != ".")
        elif pw == ":" and line_start_header:
            start = True
            line_start_header = False
        if start:
            starts.append(i)
            started.add(i)
        prev = i
    for i in starts:
        doc[i].is_sent_start = True
    if n > 1 and (n - 1) not in started:
        doc[n - 1].is_sent_start = False  # spaCy ignores token 0 when asking "are boundaries set?"
    return doc


_NUM = r"\d+(?:\.\d+)?"
MEASUREMENT_RE = re.compile(
    rf"(?<![\w.])(?:{_NUM}\s*(?:x|×|by)\s*)?(?:{_NUM}\s*(?:x|×|by)\s*)?{_NUM}\s*"
    r"(?:mm|cm|mL|ml|cc|HU|mmHg|mm\s?Hg|degrees|%|kg|L)(?![\w])",
    re.I,
)


class LexiconMatcher:
    """Sets ``doc.ents`` from a :class:`CompiledLexicon` (leftmost-longest) and measurements."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.lexicon: CompiledLexicon | None = None

    def set_lexicon(self, lexicon: CompiledLexicon) -> None:
        self.lexicon = lexicon

    def __call__(self, doc: Doc) -> Doc:
        lex = self.lexicon
        if lex is None:
            raise RuntimeError("clinassist_lexicon has no lexicon: call set_lexicon() first")
        # Match over non-space tokens, so a term wrapped over two lines is still found.
        arr = doc.to_array([ORTH, LOWER, IS_SPACE])
        strings = doc.vocab.strings
        index = [i for i, sp in enumerate(arr[:, 2]) if not sp]
        words = [strings[int(arr[i, 0])] for i in index]
        lowers = [strings[int(arr[i, 1])] for i in index]
        n = len(words)
        spans: list[Span] = []
        i = 0
        concepts = lex.concepts
        while i < n:
            best_len = 0
            best_id = -1
            for L in lex.lower_lengths.get(lowers[i], ()):
                if n - i >= L and best_len < L:
                    cid = lex.lower.get(tuple(lowers[i : i + L]))
                    if cid is not None:
                        best_len, best_id = L, cid
                        break
            for L in lex.exact_lengths.get(words[i], ()):
                if n - i >= L and best_len < L:
                    cid = lex.exact.get(tuple(words[i : i + L]))
                    if cid is not None:
                        best_len, best_id = L, cid
                        break
            if best_len:
                c = concepts[best_id]
                span = Span(doc, index[i], index[i + best_len - 1] + 1, label=c.label)
                span._.ca_normalized = c.normalized
                span._.ca_code = c.code
                span._.ca_source = c.source
                spans.append(span)
                i += best_len
            else:
                i += 1
        for m in MEASUREMENT_RE.finditer(doc.text):
            meas = doc.char_span(m.start(), m.end(), label="MEASUREMENT", alignment_mode="expand")
            if meas is not None:
                meas._.ca_normalized = re.sub(r"\s+", " ", m.group(0)).lower()
                meas._.ca_source = "regex"
                spans.append(meas)
        doc.ents = predicate_findings(doc, filter_spans(spans))
        return doc


COPULA = {
    "is",
    "are",
    "remains",
    "remain",
    "appears",
    "appear",
    "was",
    "were",
    "has",
    "have",
    "been",
    "seems",
    "again",
}
ADVERBS = {
    "mildly",
    "moderately",
    "severely",
    "markedly",
    "slightly",
    "minimally",
    "massively",
    "diffusely",
    "significantly",
    "substantially",
    "still",
    "again",
    "now",
    "at",
    "least",
    "likely",
    "probably",
    "somewhat",
    "borderline",
    "top",
    "more",
    "less",
    "further",
    "increasingly",
    "progressively",
    "very",
    "persistently",
    "xxxx",
}
# anatomy concept -> {predicate adjective -> normalized finding}; "*" applies to any anatomy.
PREDICATES: dict[str, dict[str, str]] = {
    "heart": {"enlarged": "cardiomegaly", "large": "cardiomegaly", "prominent": "cardiomegaly"},
    "mediastinum": {
        "widened": "mediastinal widening",
        "enlarged": "mediastinal widening",
        "prominent": "mediastinal widening",
    },
    "aorta": {
        "calcified": "aortic calcification",
        "tortuous": "tortuous aorta",
        "unfolded": "tortuous aorta",
        "enlarged": "aortic aneurysm",
        "dilated": "aortic aneurysm",
        "ectatic": "tortuous aorta",
    },
    "diaphragm": {"elevated": "elevated hemidiaphragm", "flattened": "hyperinflation"},
    "lung": {
        "hyperinflated": "hyperinflation",
        "hyperexpanded": "hyperinflation",
        "opacified": "opacity",
        "collapsed": "atelectasis",
    },
    "*": {
        "enlarged": "enlargement",
        "calcified": "calcification",
        "thickened": "thickening",
        "dilated": "dilatation",
        "distended": "distension",
        "widened": "widening",
        "blunted": "blunting of the costophrenic angle",
    },
}
MAX_GAP = 4


def predicate_findings(doc: Doc, spans: list[Span]) -> list[Span]:
    """ "The heart is moderately enlarged": ANATOMY + copula/adverbs + abnormal adjective -> one
    FINDING span (normalized from :data:`PREDICATES`)."""
    out: list[Span] = []
    k = 0
    while k < len(spans):
        span = spans[k]
        merged = None
        if span.label_ == "ANATOMY":
            table = {**PREDICATES["*"], **PREDICATES.get(span._.ca_normalized or "", {})}
            j = span.end
            limit = min(len(doc), span.end + MAX_GAP + 1)
            nxt = spans[k + 1] if k + 1 < len(spans) else None
            while j < limit:
                tok = doc[j]
                low = tok.lower_
                if low in table:
                    if nxt is not None and nxt.start <= j < nxt.end and len(nxt) > 1:
                        break  # the adjective starts a longer term of its own
                    merged = Span(doc, span.start, j + 1, label="FINDING")
                    merged._.ca_normalized = (
                        table[low]
                        if span._.ca_normalized in PREDICATES
                        else f"{table[low]}: {span._.ca_normalized}"
                    )
                    merged._.ca_source = "predicate"
                    break
                if not (
                    tok.is_space or low in COPULA or low in ADVERBS or (tok.is_punct and low == "-")
                ):
                    break
                j += 1
        if merged is not None:
            end = merged.end
            out.append(merged)
            k += 1
            while k < len(spans) and spans[k].start < end:
                k += 1
            continue
        out.append(span)
        k += 1
    return out


@Language.factory("clinassist_lexicon_v1")
def make_lexicon_matcher(nlp: Language, name: str) -> LexiconMatcher:
    return LexiconMatcher(nlp, name)


@Language.component("clinassist_abbreviations_v1")
def link_abbreviations(doc: Doc) -> Doc:
    """Short forms defined in the report take their long form's concept."""
    if not Doc.has_extension("abbreviations"):
        return doc
    abbrs = doc._.abbreviations or []
    if not abbrs:
        return doc
    ents = list(doc.ents)
    taken = {i for e in ents for i in range(e.start, e.end)}
    new: list[Span] = []
    for short in abbrs:
        long_form = short._.long_form
        if long_form is None:
            continue
        source = next(
            (e for e in ents if e.start < long_form.end and long_form.start < e.end), None
        )
        if source is None:
            continue
        if any(i in taken for i in range(short.start, short.end)):
            continue
        span = Span(doc, short.start, short.end, label=source.label_)
        span._.ca_normalized = source._.ca_normalized
        span._.ca_code = source._.ca_code
        span._.ca_source = "abbreviation"
        span._.ca_expanded = long_form.text
        taken.update(range(short.start, short.end))
        new.append(span)
    if new:
        doc.ents = filter_spans(ents + new)
    return doc


LATERALITY = {
    "left": "left",
    "right": "right",
    "bilateral": "bilateral",
    "bilaterally": "bilateral",
    "both": "bilateral",
    "bibasilar": "bilateral",
    "bibasal": "bilateral",
}
SEVERITY = {
    "trace": "trace",
    "tiny": "small",
    "minimal": "minimal",
    "minimally": "minimal",
    "small": "small",
    "mild": "mild",
    "mildly": "mild",
    "slight": "mild",
    "slightly": "mild",
    "moderate": "moderate",
    "moderately": "moderate",
    "large": "large",
    "severe": "severe",
    "severely": "severe",
    "marked": "severe",
    "markedly": "severe",
    "massive": "large",
    "extensive": "large",
    "substantial": "large",
    "borderline": "borderline",
}
CHANGE = {
    "new": "new",
    "increased": "increased",
    "increasing": "increased",
    "enlarging": "increased",
    "worse": "worsened",
    "worsened": "worsened",
    "worsening": "worsened",
    "decreased": "decreased",
    "decreasing": "decreased",
    "smaller": "decreased",
    "improved": "improved",
    "improving": "improved",
    "unchanged": "unchanged",
    "stable": "unchanged",
    "persistent": "unchanged",
    "persists": "unchanged",
    "resolved": "resolved",
    "resolving": "improved",
}
WINDOW_BEFORE = 4
WINDOW_AFTER = 4


@Language.component("clinassist_attributes_v1")
def attach_attributes(doc: Doc) -> Doc:
    """Laterality, severity, change and size from the tokens around each finding or device."""
    ents = list(doc.ents)
    if not ents:
        return doc
    bounds = [(s.start, s.end) for s in doc.sents]
    starts = [b[0] for b in bounds]
    for k, ent in enumerate(ents):
        if ent.label_ not in ("FINDING", "DEVICE"):
            continue
        s_start, s_end = bounds[bisect_right(starts, ent.start) - 1]
        lo = max(s_start, ent.start - WINDOW_BEFORE)
        hi = min(s_end, ent.end + WINDOW_AFTER)
        if k > 0 and ents[k - 1].label_ == "FINDING" and ents[k - 1].end > lo:
            lo = max(lo, ents[k - 1].end)
        if k + 1 < len(ents) and ents[k + 1].label_ == "FINDING" and ents[k + 1].start < hi:
            hi = min(hi, ents[k + 1].start)
        lat = sev = chg = None
        for tok in doc[lo:hi]:
            low = tok.lower_
            lat = lat or LATERALITY.get(low)
            sev = sev or SEVERITY.get(low)
            chg = chg or CHANGE.get(low)
        ent._.ca_laterality = lat
        ent._.ca_severity = sev
        ent._.ca_change = chg
        for other in ents[max(0, k - 2) : k + 3]:
            if (
                other.label_ == "MEASUREMENT"
                and s_start <= other.start < s_end
                and lo - 3 <= other.start <= hi + 3
            ):
                ent._.ca_size = other.text
                break
    return doc
