"""The evaluations' one support checker (safety: claims; kb answers: text up to each citation)
is independent of the answer tool and stricter."""

from __future__ import annotations

from pathlib import Path

from assistant.evals import claim_check

PASSAGE = (
    "Atelectasis. Atelectasis is the collapse of part of a lung. It shows on a chest X-ray as "
    "an area of increased density with volume loss, for example 2 cm shift."
)


def test_claim_fully_in_its_cited_passage_is_supported() -> None:
    v = claim_check.check("Atelectasis is the collapse of part of a lung [1].", [PASSAGE])
    assert (v.claims, v.unsupported) == (1, 0)


def test_a_word_or_number_the_passage_lacks_is_unsupported() -> None:
    v = claim_check.check(
        "Atelectasis is the collapse of part of a lung caused by smoking [1]. "
        "It shows a 3 cm shift on a chest X-ray [1].",
        [PASSAGE],
    )
    assert (v.claims, v.unsupported) == (2, 2)


def test_citing_the_wrong_passage_or_nothing_is_unsupported() -> None:
    other = "Pneumonia. Pneumonia is an infection of the lungs."
    v = claim_check.check("Atelectasis is the collapse of part of a lung [2].", [other, PASSAGE])
    assert v.unsupported == 0
    v = claim_check.check("Atelectasis is the collapse of part of a lung [1].", [other, PASSAGE])
    assert v.unsupported == 1
    v = claim_check.check("Atelectasis is the collapse of part of a lung.", [PASSAGE])
    assert v.unsupported == 1 and v.uncited == 1
    v = claim_check.check(
        "The report describes a small left pleural effusion.",
        [],
        ["Findings: small left pleural effusion. The report describes it."],
    )
    assert v.unsupported == 0


def test_questions_and_referrals_are_not_claims() -> None:
    v = claim_check.check("Is it serious? Please ask your pharmacist or doctor about it.", [])
    assert v.claims == 0


def test_independent_groundedness_is_strict() -> None:
    passage = {1: "Most back pain goes away on its own. Resting can help for 1 or 2 days."}
    assert claim_check.grounded("Most back pain goes away on its own [1].", passage)[1] == 0
    # a paraphrase, an invented number and an uncited claim all fail; a referral passes
    checked, bad, _ = claim_check.grounded(
        "Back pain usually resolves [1]. Rest for 3 days [1]. It is never serious. "
        "Talk to your doctor.",
        passage,
    )
    assert (checked, bad) == (3, 3)
    assert (
        claim_check.grounded(
            "Most back pain goes away on its own [1]. Talk to your doctor.", passage
        )[1]
        == 0
    )


def test_shares_no_code_with_the_checker_it_judges() -> None:
    source = (Path(claim_check.__file__)).read_text()
    assert (
        "tools.answer" not in source and "from tools" not in source and "import tools" not in source
    )


def test_body_sites_are_content_words_and_abbreviations_do_not_end_a_sentence() -> None:
    assert claim_check.words("Low back pain") == {"low", "back", "pain"}
    assert claim_check.sentences("Take e.g. 2 tablets [1]. Rest.\n- fever") == [
        "Take e.g. 2 tablets [1].",
        "Rest.",
        "- fever",
    ]
