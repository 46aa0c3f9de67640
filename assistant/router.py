"""The router: decides which tools a message needs, without relying on LLM tool calling.

Rules handle what is unambiguous (attachments, report-shaped text); a nearest-centroid intent
classifier over sentence embeddings handles the rest. The case state resolves follow-ups.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.core.config import RouterSettings
from assistant.core.embeddings import Embedder
from assistant.core.schema import AttachmentRef
from assistant.core.sentences import split_sentences
from assistant.core.state import CaseState

INTENTS = ("greeting", "thanks", "help", "question", "case_question", "image_question", "off_topic")

_SECTION = re.compile(
    r"(?:^|[.;]\s)\s*(findings?|impression|indication|technique|comparison|history|clinical history|"
    r"conclusion|exam(ination)?|procedure|assessment|plan|hpi|medications?)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_REPORT_TERMS = re.compile(
    r"\b(no (evidence of|acute)|unremarkable|opacit|effusion|pneumothorax|consolidation|"
    r"atelectasis|cardiomegaly|nodule|mass|infiltrate|edema|oedema|fracture|silhouette|"
    r"mediastin|hilar|lobe|lung|pleural|tube|catheter|line tip|mg\b|stable|interval|"
    r"compared|bilateral|left|right|mild|moderate|severe|small|large|cm\b|mm\b)",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^\s*(what|how|why|when|where|which|who|is|are|was|were|do|does|did|can|could|should|"
    r"would|will|tell me|explain|define|describe|list|summari[sz]e|any)\b",
    re.IGNORECASE,
)
_DEICTIC = re.compile(
    r"\b(this|that|these|those|it|the (report|image|x-?ray|film|scan|case|patient|finding|"
    r"findings|impression|nodule|effusion|lesion))\b|\b(earlier|before|above|previous)\b",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(
    r"\b(it|its|this|that|they|them|those|these)\b|^\s*(and|what about|how about)\b", re.I
)
_SMALL_TALK = [
    (
        "greeting",
        re.compile(
            r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening))\b[\s!.,]*(there|assistant|again)?[\s!.]*$",
            re.I,
        ),
    ),
    ("thanks", re.compile(r"^\s*(thanks|thank you|thx|cheers)\b[\w\s,!.]{0,30}$", re.I)),
    ("help", re.compile(r"^\s*/?(help|\?)\s*$", re.I)),
]
_IMAGE_WORDS = re.compile(
    r"\b(image|x-?ray|cxr|film|radiograph|scan|heatmap|picture|dicom)\b", re.I
)
# "What do you see?" and similar: a request to read the image (answered with the machine draft).
_DESCRIBE = re.compile(
    r"\b(what (do|can|did) you (see|make of|think of)|describe|interpret|read (it|this|that)|"
    r"what('?s| is) (on|in) (it|this|that|there)|what does (it|this|that) show|"
    r"(draft|write|give)( me)? (a |the )?(report|read|impression)|your (read|impression|findings)|"
    r"anything (abnormal|wrong|there))\b",
    re.I,
)
_REPORT_WORD = re.compile(r"\breports?\b", re.I)


def asks_to_describe(text: str) -> bool:
    """The message asks to read an image ("what do you see?", "describe the film")."""
    if _IMAGE_WORDS.search(text):
        return True
    return bool(_DESCRIBE.search(text)) and not _REPORT_WORD.search(text.replace("report on", ""))


@dataclass
class Plan:
    intent: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    score: float = 1.0
    reason: str = ""

    @property
    def tools(self) -> list[str]:
        return [s["name"] for s in self.steps]


def looks_like_report(text: str, min_chars: int) -> bool:
    """Report-shaped text: section headers, or several clinical statements without a question."""
    if _SECTION.search(text) and len(text) >= 20:
        return True
    if len(text) < min_chars or text.rstrip().endswith("?"):
        return False
    if _QUESTION_START.match(text) and text.count(".") <= 1:
        return False
    return len(_REPORT_TERMS.findall(text)) >= 3


class IntentClassifier:
    """Nearest centroid over embeddings of the labelled examples in data/intents.yaml."""

    def __init__(self, embedder: Embedder, examples: dict[str, list[str]] | None = None) -> None:
        self.embedder = embedder
        self.examples = examples or load_intent_examples()

    @cached_property
    def _centroids(self) -> tuple[list[str], np.ndarray]:
        labels = list(self.examples)
        rows = []
        for label in labels:
            vecs = self.embedder.embed(self.examples[label])
            centroid = vecs.mean(axis=0)
            rows.append(centroid / max(float(np.linalg.norm(centroid)), 1e-9))
        return labels, np.vstack(rows)

    def warm(self) -> None:
        _ = self._centroids

    def classify(self, text: str) -> tuple[str, float]:
        labels, centroids = self._centroids
        vec = self.embedder.embed([text])[0]
        scores = centroids @ vec
        best = int(np.argmax(scores))
        return labels[best], float(scores[best])


def load_intent_examples() -> dict[str, list[str]]:
    raw = yaml.safe_load(
        resources.files("assistant.data").joinpath("intents.yaml").read_text(encoding="utf-8")
    )
    unknown = set(raw) - set(INTENTS)
    if unknown:
        raise ValueError(f"intents.yaml: unknown intents {sorted(unknown)}; valid: {INTENTS}")
    return {k: [str(x) for x in v] for k, v in raw.items()}


class Router:
    def __init__(
        self,
        classifier: IntentClassifier,
        settings: RouterSettings,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        self.classifier = classifier
        self.settings = settings
        self.cache_dir = cache_dir  # where triage's semantic matcher caches its phrase vectors

    def plan(
        self,
        text: str,
        attachments: list[AttachmentRef],
        case: CaseState,
        history: list[str] | None = None,
        *,
        available: Collection[str] | None = None,
    ) -> Plan:
        """Tools for one message. ``history``: earlier user messages in this case, oldest first;
        ``available``: the registered tools (triage is planned only when it is one of them)."""
        text = text.strip()
        if available is None or "triage" in available:
            triage_plan = _triage_plan(
                text,
                attachments,
                case,
                history or [],
                embedder=self.classifier.embedder,
                cache_dir=self.cache_dir,
            )
            if triage_plan is not None:
                return triage_plan
        steps: list[dict[str, Any]] = []
        # the machine draft is for clinicians; patient mode keeps the short answer
        describe = bool(text) and asks_to_describe(text) and case.get("mode") != "patient"
        for att in attachments:
            if att.kind in ("image", "dicom"):
                step: dict[str, Any] = {
                    "name": "classify_image",
                    "args": {"attachment": att.sha256},
                }
                if describe:  # the reply is the machine draft built from the tool's result
                    step["draft"] = True
                steps.append(step)
            else:
                steps.append({"name": "extract_entities", "args": {"attachment": att.sha256}})
        if steps:
            if text and not describe and _is_question(text):
                steps.append({"name": "generate_answer", "args": {"question": text}})
            return Plan("attachment", steps, reason="attachments")
        if not text:
            return Plan("empty")
        classified: tuple[str, float] | None = None
        if (
            case.get("mode") == "patient"
            and (available is None or "triage" in available)
            and not _small_talk(text)
        ):
            classified = self.classifier.classify(text)
            if _untold_worry(text, *classified, self.settings.min_intent_score):
                # the virtual doctor never answers a patient's statement with small talk, an
                # entity list or a definition: what nothing recognised goes to triage's
                # catch-all (an open question and the general warning signs)
                return Plan(
                    "triage",
                    [{"name": "triage", "args": {"text": text}}],
                    classified[1],
                    "unrecognised statement",
                )
        if looks_like_report(text, self.settings.report_min_chars):
            return Plan(
                "report",
                [{"name": "extract_entities", "args": {"text": text}}],
                reason="report-shaped text",
            )

        for intent, pattern in _SMALL_TALK:  # unambiguous one-liners need no model
            if pattern.match(text):
                return Plan(intent, [], 1.0, reason="rule")
        intent, score = classified or self.classifier.classify(text)
        if _image_shas(case) and _DESCRIBE.search(text) and asks_to_describe(text):
            intent, score = "image_question", max(score, self.settings.min_intent_score)
        has_findings = bool(case.get("findings") or case.get("images"))
        if score < self.settings.min_intent_score and intent in (
            "off_topic",
            "greeting",
            "thanks",
            "help",
        ):
            intent = "question" if _is_question(text) else intent
        if (
            intent in ("case_question", "image_question")
            and not has_findings
            and not case.get("attachments")
        ):
            intent = "question"
        if intent == "question" and has_findings and _DEICTIC.search(text):
            intent = "case_question"

        if intent == "image_question":
            unclassified = _unclassified_images(case)
            shown = _image_shas(case)
            if unclassified or shown:  # the newest unread image, else the last one read again
                sha = unclassified[-1] if unclassified else shown[-1]
                step = {"name": "classify_image", "args": {"attachment": sha}}
                if case.get("mode") != "patient":
                    step["draft"] = True
                return Plan(intent, [step], score)
            intent = "case_question"
        if intent == "case_question":
            return Plan(intent, [{"name": "generate_answer", "args": {"question": text}}], score)
        if intent == "question":
            query = text
            if history and _FOLLOW_UP.search(text) and len(text.split()) <= 8:
                query = f"{history[-1].strip()} {text}"  # "what causes it?" -> about the last topic
            return Plan(
                intent,
                [
                    {"name": "search_knowledge", "args": {"query": query}},
                    {"name": "generate_answer", "args": {"question": query}},
                ],
                score,
            )
        return Plan(intent, [], score)


# ---- virtual-doctor triage (patient mode; clinician mode on request) -------------------------
_TRIAGE_REQUEST = re.compile(
    r"^\s*(?:please\s+)?triage\b[\s:,-]*(?:this|the\s+(?:case|patient|story))?\s*[:,.-]?\s*", re.I
)


def _triage_plan(
    text: str,
    attachments: list[AttachmentRef],
    case: CaseState,
    history: list[str],
    *,
    embedder: Embedder | None = None,
    cache_dir: Path | None = None,
) -> Plan | None:
    """Triage steps, or None for the usual routing. Patient mode: a symptom story (however long
    or clinical-sounding, e.g. a pasted discharge letter; recognised by the triage patterns, the
    HPO vocabulary, a person with a health cue, or the embedder's semantic matching), an
    attached letter, or an answer to the triage questions just asked. Clinician mode: only
    "triage this" (the text after it, or the previous message)."""
    from tools.triage.parse import educational_question, mentions_symptoms

    mode = case.get("mode", "clinician")
    request = _TRIAGE_REQUEST.match(text)
    if mode != "patient":
        if not request:
            return None
        body = text[request.end() :].strip() or (history[-1] if history else "")
        if not body:
            return None
        return Plan("triage", [{"name": "triage", "args": {"text": body}}], reason="triage request")
    steps: list[dict[str, Any]] = []
    reports = [a for a in attachments if a.kind == "report"]
    for att in attachments:
        if att.kind in ("image", "dicom"):
            steps.append({"name": "classify_image", "args": {"attachment": att.sha256}})
    # mid-intake, a general question ("what is sepsis?") gets its answer; one about the case in
    # progress ("is this a miscarriage?", "should I just wait?") is still the patient's story
    pending = bool((case.get("intake") or {}).get("pending")) and (
        not educational_question(text) or bool(_ABOUT_THE_CASE.search(text))
    )
    if (
        text
        and (pending or request or mentions_symptoms(text, embedder=embedder, cache_dir=cache_dir))
        and not _small_talk(text)
    ):
        steps.append(
            {"name": "triage", "args": {"text": text[request.end() :] if request else text}}
        )
        return Plan("triage", steps, reason="answer" if pending else "symptom story")
    if reports:
        steps.append({"name": "triage", "args": {"attachment": reports[0].sha256}})
        return Plan("triage", steps, reason="attached letter")
    return None


_KNOWLEDGE_REQUEST = re.compile(
    r"^\W*(?:please\s+)?(?:i(?:'d|\s+would)?\s+(?:want|like|need|wish)\s+to\s+"
    r"(?:know|learn|read|understand|find\s+out)|info(?:rmation)?\s+(?:on|about)|search\b|look\s+up)",
    re.IGNORECASE,
)


_ABOUT_THE_CASE = re.compile(
    r"^\W*(?:so\s+|but\s+)?(?:is|could|can|might|would|does|will)\s+(?:this|it|that|these|those)\b"
    r"|\b(?:should|do|must|can|shall)\s+(?:i|we)\s+(?:just\s+)?(?:wait|worry|be\s+worried|go|see"
    r"|call|ring)\b",
    re.IGNORECASE,
)


def told_part(text: str) -> str:
    """The statements of a message without its questions ("he swallowed a battery. he's fine.
    should I wait?" -> "he swallowed a battery. he's fine."). A sentence that starts as a
    question is all question; one that only ends in a question mark keeps what comes before its
    last comma ("he swallowed a battery, should I wait?" -> "he swallowed a battery")."""
    told: list[str] = []
    for sentence in split_sentences(text.strip()):
        sentence = sentence.strip()
        if not sentence or _QUESTION_START.match(sentence):
            continue
        if sentence.endswith("?"):
            sentence = sentence.rpartition(",")[0].strip()
        if sentence:
            told.append(sentence)
    return " ".join(told)


def _untold_worry(text: str, intent: str, score: float, min_score: float) -> bool:
    """Patient mode: a statement (not a request for information) of three words or more that
    the classifier does not confidently call small talk. A story that ends in a question ("my
    son swallowed a battery, he seems fine. should I wait for it to come out?") is a statement
    too: its told part is three words or more; a bare question is not."""
    told = told_part(text) if _is_question(text) else text
    if _KNOWLEDGE_REQUEST.match(told) or len(told.split()) < 3:
        return False
    return not (intent in ("greeting", "thanks", "help", "off_topic") and score >= min_score)


def _small_talk(text: str) -> bool:
    return any(p.match(text) for _intent, p in _SMALL_TALK)


SELF_CARE_LEVELS = ("self_care", "routine")
"""Triage levels that get self-care information beside them (never urgent or emergency: nothing
may compete with the instruction to get care now)."""
SELF_CARE_QUESTION = "What should I do about {complaint}?"
SHORT_QUESTION_WORDS = 12
"""A question up to this long that asks for a section ("What should I do about a bee sting?")
is searched as written; a longer story by the complaint phrases it names."""


def after_triage(
    result: dict[str, Any], available: Collection[str], text: str = "", mode: str = "patient"
) -> list[dict[str, Any]]:
    """Steps after a triage call (the one place its knowledge query is built). For a home-care or
    see-your-doctor level, also while questions are still open: cited self-care information from
    the knowledge base (patient mode searches consumer-health passages first). The question is
    the user's own when it is short and asks for a section, else "What should I do about ...?"
    with the complaint phrases the message names, else (at the final decision, after bare
    answers) the main complaint. Nothing for an urgent or emergency level, nor for a bare answer
    to the triage questions before the decision. Clinician mode ("triage this"): the passage
    alone, at the final decision."""
    from knowledge.kb.sources.sections import asked_sections

    query = result.get("knowledge_query")
    if result.get("level") not in SELF_CARE_LEVELS or "search_knowledge" not in available:
        return []
    if mode != "patient" or "generate_answer" not in available:  # the passage alone, at the end
        return (
            [{"name": "search_knowledge", "args": {"query": str(query), "k": 3}}] if query else []
        )
    named = complaint_phrases(text, result.get("complaints") or [])
    if named and len(text.split()) <= SHORT_QUESTION_WORDS and asked_sections(text):
        question = " ".join(text.split())
    elif named:
        question = SELF_CARE_QUESTION.format(complaint=named[0])
    elif query:
        question = SELF_CARE_QUESTION.format(complaint=complaint_name(str(query)))
    else:
        return []
    return [
        {"name": "search_knowledge", "args": {"query": question}},
        {"name": "generate_answer", "args": {"question": question}},
    ]


def complaint_phrases(text: str, complaints: list[dict[str, Any]]) -> list[str]:
    """The words of ``text`` that name the complaints triage found present, in its order
    ("I've had a sore throat and a runny nose" -> ["sore throat", "runny nose"]); [] for a bare
    answer such as "no, 3 days"."""
    from tools.triage.lexicon import lexicon
    from tools.triage.parse import normalize

    if not text.strip():
        return []
    lex = lexicon()
    norm = normalize(text, lex)
    out: list[str] = []
    for c in complaints:
        if c.get("status", "present") != "present":
            continue
        name = complaint_name(str(c.get("name", "")))
        for pattern in lex.compiled.get(str(c.get("id")), ()):
            m = pattern.search(norm)
            if m and m.group(0).strip():
                phrase = " ".join(m.group(0).split())
                # the user's phrase when it shares a word with the complaint's name ("a cold",
                # "runny nose"), else the name ("stung by" -> "an insect bite or sting")
                shared = set(re.findall(r"[a-z]+", phrase)) & set(re.findall(r"[a-z]+", name))
                phrase = phrase if shared else name
                if phrase and phrase not in out:
                    out.append(phrase)
                break
    return out


def complaint_name(name: str) -> str:
    """A complaint's display name without its explanation in brackets ("cold symptoms")."""
    return re.sub(r"\s*\([^)]*\)", "", name).strip()


def _is_question(text: str) -> bool:
    return text.rstrip().endswith("?") or bool(_QUESTION_START.match(text))


def _unclassified_images(case: CaseState) -> list[str]:
    done = {img.get("attachment") for img in case.get("images", [])}
    return [
        a["sha256"]
        for a in case.get("attachments", [])
        if a.get("kind") in ("image", "dicom") and a["sha256"] not in done
    ]


def _image_shas(case: CaseState) -> list[str]:
    return [a["sha256"] for a in case.get("attachments", []) if a.get("kind") in ("image", "dicom")]
