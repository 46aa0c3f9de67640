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
6. When the model declines ("I don't know") or none of its sentences is supported, the
   source's own sentences that answer the question that was asked go through step 4 instead
   (:mod:`~tools.answer.quote`: the question's type, treatment, causes, symptoms ..., picks
   the section or the sentences; when no retrieved passage gives that type the answer says so
   before what the sources do say): the small local model declines many questions its
   evidence answers.

Passage text is read in units (:mod:`~tools.answer.segment`: headings, list items and
sentences, never fused), for the prompt, the quotes and the display of the model's sentences
(a heading or list item run into a sentence is cut off; a sentence pointing back, "This
condition is ...", is shown only after what it points to).

The package: :mod:`~tools.answer.text` (content words), :mod:`~tools.answer.evidence` (steps 1
and 3's prompt), :mod:`~tools.answer.support` (the support check), :mod:`~tools.answer.composer`
(steps 4-5), :mod:`~tools.answer.quote` (step 6), :mod:`~tools.answer.segment` (units),
:mod:`~tools.answer.fallbacks` (the case lookup, care lines, reading grade)
and :mod:`~tools.answer.tool` (the tool function).
"""

from __future__ import annotations

from tools.answer.composer import Composer, citations
from tools.answer.evidence import (
    CARE_CHARS,
    EVIDENCE_CHARS,
    MAX_FACTS,
    MAX_PASSAGE_CHARS,
    MAX_PASSAGES,
    build_messages,
    care_passage,
    care_text,
    case_facts,
    focus_passages,
    passages_from,
    prompt,
    semantic,
)
from tools.answer.fallbacks import (
    care_sentences,
    case_lookup,
    reading_grade,
)
from tools.answer.support import (
    EMBEDDING_SUPPORT,
    LEXICAL_SUPPORT,
    LEXICAL_WITH_EMBEDDING,
    MIN_CLAIM_WORDS,
    SupportChecker,
    is_claim,
)
from tools.answer.text import content_words
from tools.answer.tool import ANSWER_MAX_TOKENS, generate_answer

__all__ = [
    "ANSWER_MAX_TOKENS",
    "CARE_CHARS",
    "EMBEDDING_SUPPORT",
    "EVIDENCE_CHARS",
    "LEXICAL_SUPPORT",
    "LEXICAL_WITH_EMBEDDING",
    "MAX_FACTS",
    "MAX_PASSAGES",
    "MAX_PASSAGE_CHARS",
    "MIN_CLAIM_WORDS",
    "Composer",
    "SupportChecker",
    "build_messages",
    "care_passage",
    "care_sentences",
    "care_text",
    "case_facts",
    "case_lookup",
    "citations",
    "content_words",
    "focus_passages",
    "generate_answer",
    "is_claim",
    "passages_from",
    "prompt",
    "reading_grade",
    "semantic",
]
