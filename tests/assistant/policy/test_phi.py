"""PHI de-identification through Presidio plus the project's recognizers: the misses the cue-word
regexes had (names with no cue, UK/EU phone numbers, tracebacks), clinical words kept, and every
place text leaves a turn (audit, tool arguments, logs, REPL history)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.evals import phi as eval_phi
from assistant.evals import phi_sets
from assistant.policy import phi, safety
from assistant.service import Assistant


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        ("John Smith, 67M, presents with chest pain.", ["John", "Smith"]),
        ("Patient: john smith", ["john", "smith"]),
        ("pt J. Smith bed 12", ["Smith"]),
        ("Seen with Priya Raghavan, who reports confusion.", ["Priya", "Raghavan"]),
        ("SMITH, JOHN MRN 00482913", ["SMITH", "JOHN", "00482913"]),
        ("call me on 07700 900123 after 5", ["07700 900123"]),
        ("his home number is 020 7946 0958", ["7946 0958"]),
        ("text me on +44 (0)7700 900789", ["900789"]),
        ("German GP: Tel. +49 30 901820", ["901820"]),
        ("my mum is 93 and breathless", ["93"]),
        ("seen Tuesday 12th in clinic", ["12th"]),
        ("Seen by Dr Sparrow, then Rose Bell called.", ["Sparrow", "Rose", "Bell"]),
        (
            "Home visit to 1600 Pennsylvania Ave NW, Washington, DC 20500 today.",
            ["1600", "Pennsylvania", "NW", "Washington", "DC", "20500"],
        ),
        ("Visit to 221B Baker Street, London NW1 6XE on Monday.", ["221B", "Baker", "6XE"]),
        ("Patient aged ninety-three, Medicare 1EG4-TE5-MK73.", ["ninety", "three", "MK73"]),
    ],
)
def test_identifiers_the_old_rules_missed_are_redacted(text: str, secrets: list[str]) -> None:
    red = safety.redact_phi(text)
    assert red.changed
    for secret in secrets:
        assert secret not in red.text, red.text


@pytest.mark.parametrize(
    "text",
    [
        "Parkinson disease with Lewy body features; Hodgkin lymphoma in remission.",
        "Crohn's disease, Graves disease and Bell palsy.",
        "Lasix 40 mg IV; Zoloft held; Keytruda cycle 4.",
        "Lyme disease and Marburg virus are not names.",
        "BP 142/88, HR 96, pain 7/10, power 5/5, SpO2 93% on RA.",
        "No pneumothorax. Small left pleural effusion.",
        "I am having chest pain",
        "Tested for COVID-19; ninety percent of the time.",
        # NER took these for persons or places in real (OpenI) radiology reports
        "INDICATION: Cardiomegaly\n\nFINDINGS: Heart size normal.",
        "INDICATION: Dyspnea\n\nIMPRESSION: Emphysema. No acute disease.",
        "FINDINGS: Mediastinum is unremarkable. Streaky opacities at the bases.",
        "INDICATION: Tachycardia and Osteopenia",
    ],
)
def test_clinical_words_are_not_redacted(text: str) -> None:
    assert safety.redact_phi(text).text == text


def test_the_library_is_used_and_names_need_no_cue() -> None:
    assert phi.LIBRARY.load(), phi.LIBRARY.error
    text = "The results were shared with Priya Raghavan and Oluwaseun Adeyemi yesterday."
    assert phi.detect(text, library=False) == []  # no cue for the rules
    spans = phi.detect(text, rules=False)
    assert [text[s.start : s.end] for s in spans if s.kind == "NAME"] == [
        "Priya Raghavan",
        "Oluwaseun Adeyemi",
    ]


def test_a_traceback_with_a_name_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.phi.traceback")
    logger.addFilter(safety.PHIRedactingFilter())
    with caplog.at_level(logging.ERROR, logger="test.phi.traceback"):
        try:
            raise ValueError("no bed for John Smith, 67M, phone 07700 900123")
        except ValueError:
            logger.exception("admission failed for %s", "Mrs Okafor")
    text = caplog.text
    assert "ValueError" in text and "Traceback" in text
    for secret in ("John Smith", "07700 900123", "Okafor"):
        assert secret not in text


def test_audit_and_tool_arguments_are_redacted(settings: Settings) -> None:
    bot = Assistant(settings, llm=ScriptedLLM(), embedder=HashingEmbedder())
    try:
        question = "What is the prognosis of pneumonia for John Smith, 67M, phone 020 7946 0958?"
        turn = bot.respond("phi-audit", question)
        assert turn.user == question  # the record keeps what the clinician wrote
        audit = repr(bot.audit("phi-audit"))
    finally:
        bot.close()
    assert "search_knowledge" in audit  # the question went to a tool as an argument
    assert "John" not in audit and "Smith" not in audit and "7946" not in audit
    assert "pneumonia" in audit


def test_repl_history_is_off_by_default(settings: Settings, monkeypatch: Any) -> None:
    from assistant import repl

    assert settings.repl.history == "off"
    seen: list[Path | None] = []

    def fake_lines(history_file: Path | None, prompt: Any) -> Any:
        seen.append(history_file)
        return iter(["/quit"])

    monkeypatch.setattr(repl, "terminal_lines", fake_lines)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    bot = Assistant(settings, llm=ScriptedLLM(), embedder=HashingEmbedder())
    try:
        repl.Repl(bot, case_id="h1").run()
    finally:
        bot.close()
    assert seen == [None]
    assert type(repl.line_history(None)).__name__ == "InMemoryHistory"


def test_repl_history_file_is_redacted(tmp_path: Path) -> None:
    from assistant.repl import line_history

    history = line_history(tmp_path / "repl_history")
    history.store_string("Patient: John Smith, MRN 12345678, call 07700 900123")
    stored = (tmp_path / "repl_history").read_text()
    assert "John" not in stored and "12345678" not in stored and "900123" not in stored
    assert "[NAME]" in stored


def test_phi_set_parses_and_splits() -> None:
    items = eval_phi.load_items()
    held = eval_phi.load_items("phi_heldout.txt", "phi-h")
    assert len(items) + len(held) >= 200
    assert {i.split for i in items} == {"dev", "test"}
    kinds = {t for i in items + held for _, _, t in i.gold}
    assert kinds == set(eval_phi.TYPES)
    first = items[0]
    assert first.text.startswith("John Smith, 67M")
    assert [first.text[s:e] for s, e, _ in first.gold] == ["John Smith"]
    assert [first.text[s:e] for s, e in first.protected] == ["chest pain"]


def test_scoring_counts_partial_redaction_as_a_miss() -> None:
    item = eval_phi.parse("x", "note", "[[NAME:John Smith]] has ((Parkinson disease)).")
    half = eval_phi.score([item], lambda t: [phi.Span(0, 4, "NAME", "t")])
    assert half["recall"]["NAME"] == 0.0 and half["precision"] == 1.0
    full = eval_phi.score([item], lambda t: [phi.Span(0, 10, "NAME", "t")])
    assert full["recall"]["NAME"] == 1.0 and full["clinical_terms_kept"] == 1.0
    greedy = eval_phi.score(
        [item], lambda t: [phi.Span(0, 10, "NAME", "t"), phi.Span(15, 24, "NAME", "t")]
    )
    assert greedy["clinical_terms_kept"] == 0.0 and greedy["precision"] == 0.5


def test_baseline_rules_are_the_old_regexes() -> None:
    old = eval_phi.baseline_rules()
    spans = phi.rule_spans("Mr. Robert Brown, MRN: 12345678, call 555-867-5309", old)
    assert {s.kind for s in spans} == {"NAME", "MRN", "PHONE"}
    assert phi.rule_spans("John Smith, 67M, presents", old) == []  # what it missed


def test_a_long_message_is_read_in_a_window_for_the_audit() -> None:
    red = safety.redact_phi("John Smith, 67M, with pneumonia. " + "Stable. " * 3000, window=200)
    assert len(red.text) <= 200 and "John" not in red.text and "NAME" in red.kinds


def test_debug_logging_through_the_filter_does_not_deadlock() -> None:
    """With every record at DEBUG passing through the redacting filter, the analyzer's own log
    records re-enter the detector: they get the rules only instead of waiting on its lock."""
    import threading

    handler = logging.StreamHandler()
    handler.addFilter(safety.PHIRedactingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("presidio-analyzer").setLevel(logging.DEBUG)  # as a user's config might
    done = threading.Event()

    def work() -> None:
        logging.getLogger("tools.registry").info("tool failed for John Smith")
        safety.redact_phi("pt John Smith bed 12")
        done.set()

    try:
        threading.Thread(target=work, daemon=True).start()
        assert done.wait(60), "redaction under DEBUG logging did not finish"
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        ("dni", "12345678Z", "12345678A"),  # Spanish DNI: number mod 23 picks the letter
        ("dni", "X1234567L", "X1234567A"),  # NIE: X=0 prefixed
        ("ppsn", "1234567T", "1234567A"),  # Irish PPSN: weights 8..2, mod 23
        ("national", "111222333", "111222334"),  # Dutch BSN 11-test
        ("national", "123456782", "123456783"),  # Australian TFN (and Canadian SIN Luhn)
        ("national", "44051401359", "44051401358"),  # Polish PESEL
        ("personnummer", "811218-9876", "811218-9875"),  # Swedish: Luhn over ten digits
        ("personnummer", "19560412-3381", "19561312-3381"),  # century form: a real date
    ],
)
def test_national_identifier_checks(check: str, good: str, bad: str) -> None:
    from assistant.policy.phi_checks import VALIDATORS

    assert VALIDATORS[check](good)
    assert not VALIDATORS[check](bad)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("NI number QQ 12 34 56 C on file", "QQ 12 34 56 C"),
        ("Hosp No: RX4 882 19K | Admitted", "RX4 882 19K"),
        ("health card TREE 8812 0419.", "TREE 8812 0419"),
        ("travel insurance policy AXA-IT-55210948.", "AXA-IT-55210948"),
        ("order ORD-7781-2290-11 delivered", "ORD-7781-2290-11"),
        ("Medicare No. 2950 41738 1 - patient", "2950 41738 1"),
        ("Ref: NHS-ERS-000412987731 cancelled", "NHS-ERS-000412987731"),
        ("Swedish patient, 811218-9876, husband", "811218-9876"),
        ("DNI 12345678Z y NIE X1234567L", "X1234567L"),
        ("her BSN 111222333 and", "111222333"),
    ],
)
def test_identifiers_are_redacted_whole_by_the_rules(text: str, secret: str) -> None:
    _assert_covered(text, secret)


@pytest.mark.parametrize(
    "text", ["12 34 56 readings", "dose 123456783 units", "code 12345678A", "HbA1c 48, eGFR 61"]
)
def test_numbers_failing_every_check_are_kept(text: str) -> None:
    assert not phi.detect(text, library=False)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Admitted Sat 09-Mar-2024 21:40 via ED", "Sat 09-Mar-2024"),
        ("message taken Tue 05/03/2024 11:47", "Tue 05/03/2024"),
        ("INR 01/03 1.8, 08/03 2.4", "08/03"),
        ("appt was 12/3 but nobody called", "12/3"),
        ("she turns 100 on the 19th and", "19th"),
        ("increased on 4 Apr 24 by neurology", "4 Apr 24"),
        ("wizyta 3 marca 2024 w poradni", "3 marca 2024"),
        ("afspraak op 12 maart graag", "12 maart"),
        ("cita el 5 de mayo de 2024", "5 de mayo de 2024"),
        ("Next check 09/2025.", "09/2025"),
        ("91M, ex-miner", "91M"),
        ("my nan is ninety three and", "ninety three"),
        ('she is "ninety-one next month"', "ninety-one"),
    ],
)
def test_dates_and_ages_in_more_forms(text: str, secret: str) -> None:
    _assert_covered(text, secret)


@pytest.mark.parametrize(
    "text",
    [
        "pain 7/10, power 5/5, GCS 14/15, vision 6/9",
        "symptoms for 3/12, cough for 2/52",
        "the 5th day of antibiotics, the 3rd cycle",
        "ninety minutes later, ninety patients",
        "temp 99F overnight",
    ],
)
def test_numbers_that_are_not_dates_or_ages_are_kept(text: str) -> None:
    assert not phi.detect(text, library=False), phi.detect(text, library=False)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Diagnosis: Guillain-Barré, FVC 2.4 L", "Guillain-Barré"),
        ("Sjögren's, Schirmer test 3 mm", "Sjögren"),
        ("Known Crohn's disease since 2010", "Known Crohn"),
        ("Right Bell's palsy onset", "Right Bell"),
        ("consistent with Henoch-Schönlein purpura.", "Henoch-Schönlein"),
        ("Diagnose: Morbus Parkinson.", "Morbus Parkinson"),
        ("Dr Lindqvist, Consultant Rheumatologist", "Consultant Rheumatologist"),
        ("Patient's daughter rang", "Patient"),
    ],
)
def test_eponyms_and_roles_are_not_names(text: str, span: str) -> None:
    start = text.index(span)
    assert phi.clinical_term(text, start, start + len(span))


@pytest.mark.parametrize(
    ("text", "span"),
    [("Patient Smith in bed 4", "Patient Smith"), ("Nurse Oyinda arranged it", "Nurse Oyinda")],
)
def test_a_role_beside_a_name_is_still_a_name(text: str, span: str) -> None:
    start = text.index(span)
    assert not phi.clinical_term(text, start, start + len(span))


def test_role_words_after_a_name_cue_are_kept() -> None:
    text = "Consent taken by Mr Chaudhry, Consultant Urologist, witnessed. Pt attended walk-in."
    red = phi.redact(text, phi.detect(text, library=False))
    assert "Consultant Urologist" in red and "attended" in red and "Chaudhry" not in red


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Address: ul. Długa 7/3, 80-827 Gdańsk.", ["Długa", "7/3", "80-827", "Gdańsk"]),
        ("Calle de Alcalá 145, 3º B, 28009 Madrid", ["Alcalá", "145", "28009", "Madrid"]),
        ("Keizersgracht 221, 1016 DV Amsterdam", ["221", "1016 DV", "Amsterdam"]),
        ("Apt 12, Rathmines Road Lower, Dublin 6, D06 F2X3", ["12", "Rathmines", "D06 F2X3"]),
        ("4501 rue Saint-Denis, Montréal, QC H2J 2L2", ["4501", "Montréal", "H2J 2L2"]),
        ("Flat 14B, Mandela House, 220 Coldharbour Lane, London SE5 9QU", ["14B", "Mandela"]),
        ("17 Wattle Street, Ultimo NSW 2007", ["Wattle", "Ultimo", "2007"]),
    ],
)
def test_addresses_abroad_and_their_parts(text: str, parts: list[str]) -> None:
    red = phi.redact(text, phi.detect(text, library=False))
    for part in parts:
        assert part not in red, red


def test_staging_codes_are_not_postcodes() -> None:
    assert not phi.detect("GCS E3V4M6 = 13; T2N1M0 adenocarcinoma", library=False)


def _assert_covered(text: str, secret: str) -> None:
    spans = phi.detect(text, library=False)
    start = text.index(secret)
    assert phi_sets._covered(spans, start, start + len(secret), text), spans


@given(st.text(alphabet="0123456789XYZABCDEFGHIJKLMNOPQRSTUVW -./+", max_size=24))
def test_identifier_checks_never_raise(text: str) -> None:
    from assistant.policy.phi_checks import VALIDATORS

    for check in VALIDATORS.values():
        assert check(text) in (True, False)
