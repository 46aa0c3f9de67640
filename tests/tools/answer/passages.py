"""Passages as the default knowledge base returns them for a few consumer questions (texts
from MedQuAD's NIH pages and the HPO, shortened), for the answer tool's tests."""

from __future__ import annotations

from typing import Any


def consumer(pid: str, topic: str, section: str, org: str, text: str) -> dict[str, Any]:
    label = section.replace("-", " ").capitalize()
    return {
        "id": f"medquad:{pid}",
        "source": "medquad",
        "title": f"{topic} — {label}",
        "topic": topic,
        "section": section,
        "citation": f"{org}: {topic} — {label}",
        "text": text,
    }


def term(code: str, title: str, text: str) -> dict[str, Any]:
    return {"id": f"hpo:{code}", "source": "hpo", "title": title, "text": text}


GOUT_TERM = term(
    "HP:0001997",
    "Gout",
    "Gout. Recurrent attacks of acute inflammatory arthritis of a joint or set of joints caused "
    "by elevated levels of uric acid in the blood which crystallize and are deposited in "
    "joints, tendons, and surrounding tissues. Also called: Gouty arthritis. A type of: Arthritis.",
)
GOUT = [
    GOUT_TERM,
    term(
        "HP:0008651",
        "Uric acid urolithiasis independent of gout",
        "Uric acid urolithiasis independent of gout. A type of: Uric acid nephrolithiasis.",
    ),
    term(
        "HP:0001854",
        "Podagra",
        "Podagra. Gout affecting the Metatarsophalangeal joint of big toe. Also called: Gout of "
        "big toe. A type of: Abnormal foot morphology; Gout.",
    ),
    consumer(
        "MPlusHealthTopics_0000409_1/2",
        "Gout",
        "information",
        "MedlinePlus",
        "Gout can be hard to diagnose. Your doctor may take a sample of fluid from an inflamed "
        "joint to look for crystals. You can treat gout with medicines.\nPseudogout has similar "
        "symptoms and is sometimes confused with gout.",
    ),
]
KIDNEY_STONES = [
    term(
        "HP:0000787",
        "Nephrolithiasis",
        "Nephrolithiasis. The presence of calculi (stones) in the kidneys. Urinary stone disease "
        "is caused by supersaturation of the urine by stone forming substances including "
        "calcium, oxalate, and uric acid. Crystals or foreign bodies can act as a nidus for "
        "further stone formation. Also called: Kidney stones; Renal calculi; Renal stones. A "
        "type of: Abnormal renal morphology.",
    ),
    term(
        "HP:0000791",
        "Uric acid nephrolithiasis",
        "Uric acid nephrolithiasis. The presence of uric acid-containing calculi (stones) in the "
        "kidneys. Also called: Uric acid stones. A type of: Nephrolithiasis.",
    ),
]
LYME = [
    consumer(
        "MPlusHealthTopics_0000570_1/2",
        "Lyme Disease",
        "information",
        "MedlinePlus",
        "After treatment, some patients may still have muscle or joint aches and nervous system "
        "symptoms. This is called post-Lyme disease syndrome (PLDS). Long-term antibiotics have "
        "not been shown to help with PLDS.",
    ),
    consumer(
        "GARD_0003690_1",
        "Lyme disease",
        "information",
        "GARD",
        "Lyme disease is the most common tickborne infectious disease in the United States. "
        "Early signs and symptoms of the condition include fever, chills, muscle pain, headache, "
        "and joint pain.",
    ),
    consumer(
        "MPlusHealthTopics_0000570_1",
        "Lyme Disease",
        "information",
        "MedlinePlus",
        "Lyme disease is a bacterial infection you get from the bite of an infected tick. The "
        "first symptom is usually a rash, which may look like a bull's eye. As the infection "
        "spreads, you may have\n- A fever\n- A headache\n- Muscle and joint aches\n- A stiff "
        "neck\n- Fatigue\nLyme disease can be hard to diagnose because you may not have noticed "
        "a tick bite. Also, many of its symptoms are like those of the flu and other diseases.\n"
        "Antibiotics can cure most cases of Lyme disease. The sooner treatment begins, the "
        "quicker and more complete the recovery.",
    ),
]
MARFAN_SYMPTOMS = consumer(
    "NHLBI_0000089_4",
    "Marfan Syndrome",
    "symptoms",
    "NHLBI",
    "Marfan syndrome can affect many parts of the body. As a result, the signs and symptoms of "
    "the disorder vary from person to person, even in the same family.\nMarfan complications "
    "also vary, depending on how the condition affects your body. Marfan syndrome most often "
    "affects the connective tissue of the heart, eyes, bones, lungs, and covering of the spinal "
    "cord. This can cause many complications, some of which are life threatening.\nMarfan "
    "Traits\nMarfan syndrome often affects the long bones of the body. This can lead to signs, "
    "or traits, such as:\nA tall, thin build.\nLong arms, legs, fingers, and toes and flexible "
    "joints.\nA spine that curves to one side. This condition is called scoliosis.\nFlat feet.",
)
CFS_GARD = consumer(
    "GARD_0001255_1",
    "Chronic fatigue syndrome",
    "information",
    "GARD",
    "Evidence for the use of drugs in chronic fatigue syndrome (CFS) is limited.[9440] "
    "Treatment is largely supportive and aims to relieve symptoms.[9440] Graded exercise may "
    "help some people.[6269]",
)
SHINGLES_COMPLICATIONS = consumer(
    "NIHSeniorHealth_0000062_11",
    "Shingles",
    "complications",
    "NIHSeniorHealth",
    "The most common complication of shingles is pain -- a condition called post-herpetic "
    "neuralgia (PHN). Shingles may also lead to other serious complications. - Outbreaks that "
    "start on the face or eyes can cause vision or hearing problems. - Bacterial infection of "
    "the open sores can lead to scarring.",
)
