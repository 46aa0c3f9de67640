"""Names with particles (bin, binti, a/l, s/o), multi-part given names, Gaelic Mac/Mc surnames,
names in Chinese, Japanese or Korean script after a cue, and nicknames in chat; and the clinical
words around them kept. Texts written for these tests, not taken from any PHI set."""

from __future__ import annotations

import pytest

from assistant.policy import phi, phi_context
from assistant.policy.phi_clinical import clinical_term, trim_clinical


def _spans(text: str) -> list[tuple[int, int]]:
    """NAME spans of the rules and of the context name finder (the default detector less
    Presidio's NER), the finder's passed through the same clinical-term checks."""
    out = [(s.start, s.end) for s in phi.detect(text, library=False) if s.kind == "NAME"]
    for start, end in phi_context.finder().find(text):
        start, end = trim_clinical(text, start, end)
        if end > start and not clinical_term(text, start, end):
            out.append((start, end))
    return out


def _names(text: str) -> list[str]:
    return [text[s:e] for s, e in _spans(text)]


def _covered(text: str, part: str) -> bool:
    start = text.index(part)
    spans = _spans(text)
    return all(
        any(s <= i < e for s, e in spans)
        for i in range(start, start + len(part))
        if text[i].isalnum()
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Pesakit Nur Aisyah binti Abdullah, MyKad on file", "Nur Aisyah binti Abdullah"),
        ("Patient: Siti Hajar bte Ismail, seen in clinic", "Siti Hajar bte Ismail"),
        ("Mr Rajesh a/l Subramaniam attended with his wife", "Rajesh a/l Subramaniam"),
        ("Mrs Kavitha a/p Muthusamy, 54, diabetic", "Kavitha a/p Muthusamy"),
        ("Patient Arjun s/o Ramasamy has a cough", "Arjun s/o Ramasamy"),
        ("Ms Priya d/o Krishnan rang the ward", "Priya d/o Krishnan"),
        ("Referred by Dr Ahmad bin Hassan for review", "Ahmad bin Hassan"),
        ("Clinic letter, Kampala: Nakato Sarah Mirembe, 29 yrs, HIV+", "Nakato Sarah Mirembe"),
        ("Seen today: Wanjiru Grace Kamau, 41, with knee pain", "Wanjiru Grace Kamau"),
        ("Outpatient, Scotland: Mhairi MacLeod, Lochboisdale", "Mhairi MacLeod"),
        ("Review of Eilidh McAllister, 8, with asthma", "Eilidh McAllister"),
        ("Mdm Chan Siu Fong (陳小芳), 93, fall at home", "陳小芳"),
        ("患者：王秀英，女，72岁，头晕三天", "王秀英"),
        ("姓名：李建国 性别：男", "李建国"),
        ("Patient 김민준, 45, chest pain", "김민준"),
        ("Ms 佐藤花子 attended with her son", "佐藤花子"),
        ("name: 张伟, DOB unknown", "张伟"),
        ("hi it's bex — I've been on Mounjaro 5 mg", "bex"),
        ("hey its mo (the one with the rash) can I change my appt", "mo"),
        ("Yo doc, jamal here, my script didn't go through", "jamal"),
        ("is it normal to have a fever after the MMR? ella is 13 months", "ella"),
        ("I had my coil fitted last week and I'm still cramping. Normal? - Maddie", "Maddie"),
        ("my heart rate was 42 last night, is that ok? - summer", "summer"),
        ("can u call me back pls - tayo", "tayo"),
        ("Sandeep (surname Gill), seen today", "Sandeep"),
        ("Sandeep (surname Gill), seen today", "Gill"),
        ("forename: Aroha, surname: Ngata", "Ngata"),
        ("Bed 12: Koa Kealoha, cellulitis", "Koa Kealoha"),
        ("bed 4 - Hemi Walker (post-op day 2)", "Hemi Walker"),
    ],
)
def test_names_with_particles_scripts_and_nicknames(text: str, name: str) -> None:
    assert _covered(text, name), (_names(text), name)


@pytest.mark.parametrize(
    "text",
    [
        "患者主诉头痛三天，无发热",
        "MacConkey agar grew lactose fermenters",
        "McMurray test positive on the left",
        "McBurney's point tenderness, Rovsing sign",
        "Mycobacterium avium complex on culture",
        "a/p: start antibiotics, review in 48 h",
        "s/o chest pain for 2 days",
        "Bell Palsy Grade Three on the right",
        "Normal? - Thanks",
        "is that ok? - again",
        "Start Augmentin Duo Forte today",
        "hi it's bad — the pain is worse",
        "hi its me again",
        "fever after the MMR? mum is worried",
        "This is called reactivation (the virus wakes up)",
        "Bed 15: Guillain-Barré syndrome, FVC 2.1 L",
        "Bed 16: DKA resolving, on Lantus",
        "Bed 3: Parkinson's, on levodopa",
        "Bed 9: NSTEMI, day 2",
        "it's called congenital (present at birth)",
    ],
)
def test_no_names_in_clinical_words_and_shorthand(text: str) -> None:
    assert _names(text) == [], _names(text)


@pytest.mark.parametrize(
    "text",
    ["환자 복통 호소, 3일 전부터", "患者 头痛 三天", "病人 发热 伴咳嗽", "患者 胸痛 两小时"],
)
def test_a_symptom_after_patient_and_a_space_is_no_name(text: str) -> None:
    assert _names(text) == [], _names(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("환자: 김민준, 45세", "김민준"),
        ("病人：刘洋，男", "刘洋"),
        ("이름 김민준 성별 남", "김민준"),
        ("氏名 佐藤花子 年齢 52", "佐藤花子"),
    ],
)
def test_a_name_after_a_patient_label_with_a_colon_or_a_name_label(text: str, name: str) -> None:
    assert _covered(text, name), (_names(text), name)


@pytest.mark.parametrize(
    "text",
    [
        "Bed 7: Chest Pain, troponin negative",
        "Bed 6: Abdo Pain, for CT",
        "Bed 2: Back Pain (mechanical), mobilising",
        "Bed 9: Upper GI Bleed, scope today",
    ],
)
def test_a_complaint_on_a_handover_list_is_no_name(text: str) -> None:
    assert _names(text) == [], _names(text)
