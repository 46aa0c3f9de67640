"""Builds queries.jsonl from hand-written questions (below) and HPO layperson synonyms.

Run: .venv/bin/python -m knowledge.data.kb.make_queries  (deterministic; review the diff).
Hand-written questions name their answer by HPO term name or ICD-10-CM code; this script
resolves names to ids and fails on any name it cannot find, so every label is checked.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

# (question, HPO term name) — written by hand, phrased as patients and clinicians ask.
HPO_QUESTIONS = [
    ("What is it called when your heart beats too fast?", "Tachycardia"),
    ("slow heart rate, what is the medical word", "Bradycardia"),
    ("What does it mean when air gets into the space around the lung?", "Pneumothorax"),
    ("fluid around the lungs", "Pleural effusion"),
    ("coughing up blood from the lungs", "Hemoptysis"),
    ("What is it when you cannot catch your breath?", "Dyspnea"),
    ("feeling like the room is spinning", "Vertigo"),
    ("ringing or buzzing in the ears", "Tinnitus"),
    ("What is jaundice?", "Jaundice"),
    ("yellow colour of the skin and eyes", "Jaundice"),
    ("blood in the urine", "Hematuria"),
    ("What is it called when you pee a lot at night?", "Nocturia"),
    ("abnormally large head size in a child", "Macrocephaly"),
    ("head is much smaller than normal", "Microcephaly"),
    ("enlarged liver", "Hepatomegaly"),
    ("big spleen", "Splenomegaly"),
    ("What is clubbing of the fingers?", "Clubbing of fingers"),
    ("drooping of the upper eyelid", "Ptosis"),
    ("eyes that do not look in the same direction", "Strabismus"),
    ("cannot see things far away clearly", "Myopia"),
    ("seeing two images of one object", "Diplopia"),
    ("rhythmic involuntary eye movements", "Nystagmus"),
    ("What is a seizure?", "Seizure"),
    ("sudden brief loss of consciousness and fainting", "Syncope"),
    ("very high blood pressure in the arteries", "Hypertension"),
    ("low blood pressure", "Hypotension"),
    ("too much sugar in the blood", "Hyperglycemia"),
    ("blood sugar level too low", "Hypoglycemia"),
    ("low number of platelets in the blood", "Thrombocytopenia"),
    ("low red blood cell count or haemoglobin", "Anemia"),
    ("low white blood cell count", "Leukopenia"),
    ("hair falling out, bald patches", "Alopecia"),
    ("itchy skin", "Pruritus"),
    ("swelling caused by fluid in the tissues", "Edema"),
    ("difficulty swallowing food", "Dysphagia"),
    ("throwing up", "Vomiting"),
    ("feeling sick to the stomach", "Nausea"),
    ("loose watery stools", "Diarrhea"),
    ("infrequent or hard bowel movements", "Constipation"),
    ("pain in the belly", "Abdominal pain"),
    ("What is scoliosis?", "Scoliosis"),
    ("sideways curvature of the spine", "Scoliosis"),
    ("being much shorter than other people of the same age", "Short stature"),
    ("excess body fat", "Obesity"),
    ("losing weight without trying", "Weight loss"),
    ("failure to gain weight in infancy", "Failure to thrive"),
    ("delayed learning and intellectual problems", "Intellectual disability"),
    ("high fever", "Fever"),
    ("What is hepatosplenomegaly?", "Hepatosplenomegaly"),
    ("bleeding from the nose", "Epistaxis"),
    ("a hole in the wall between the two lower chambers of the heart", "Ventricular septal defect"),
    ("hole between the upper chambers of the heart", "Atrial septal defect"),
    ("irregular heart rhythm", "Arrhythmia"),
    ("abnormal sound of blood flow heard over the heart", "Heart murmur"),
    ("enlarged heart", "Cardiomegaly"),
    ("weak heart muscle disease", "Cardiomyopathy"),
    ("extra fingers or toes", "Polydactyly"),
    ("fused fingers or toes", "Syndactyly"),
    ("cleft in the upper lip", "Cleft upper lip"),
    ("opening in the roof of the mouth", "Cleft palate"),
    ("reduced ability to hear sounds", "Hearing impairment"),
    ("muscle weakness", "Muscle weakness"),
    ("low muscle tone in a floppy baby", "Generalized hypotonia"),
    ("stiff muscles with increased tone", "Hypertonia"),
    ("tremor of the hands", "Tremor"),
    ("lack of coordination of movements, unsteady walking", "Ataxia"),
    ("headache", "Headache"),
    ("migraine attacks", "Migraine"),
    ("kidney stones", "Nephrolithiasis"),
    ("protein leaking into the urine", "Proteinuria"),
    ("underactive thyroid gland", "Hypothyroidism"),
    ("overactive thyroid", "Hyperthyroidism"),
    ("enlarged thyroid gland in the neck", "Goiter"),
    ("hives on the skin", "Urticaria"),
    ("depressed mood", "Depression"),
    ("feeling anxious all the time", "Anxiety"),
    ("bad breath", "Halitosis"),
    ("stroke due to blocked blood flow to the brain", "Ischemic stroke"),
    ("inflammation of the pancreas", "Pancreatitis"),
    ("lung infection with fever and cough", "Pneumonia"),
    ("sleep breathing stops, obstructive sleep apnoea", "Obstructive sleep apnea"),
    ("bone density low and bones break easily", "Osteoporosis"),
]

# (question, HPO term name) — clinical abbreviations (exercise the expansion list).
ABBREV_QUESTIONS = [
    ("SOB on exertion", "Exertional dyspnea"),
    ("pt with HTN", "Hypertension"),
    ("what is PTX", "Pneumothorax"),
    ("signs of CHF", "Congestive heart failure"),
    ("AFib", "Atrial fibrillation"),
    ("OSA", "Obstructive sleep apnea"),
    ("DVT in the leg", "Deep venous thrombosis"),
    ("PE on CT", "Pulmonary embolism"),
    ("SVT episode", "Supraventricular tachycardia"),
    ("VSD", "Ventricular septal defect"),
    ("PDA in a newborn", "Patent ductus arteriosus"),
    ("LVH on ECG", "Left ventricular hypertrophy"),
    ("COPD", "Chronic pulmonary obstruction"),
    ("AKI", "Acute kidney injury"),
    ("GERD symptoms", "Gastroesophageal reflux"),
]

# (question, ICD-10-CM code) — code lookups, written by hand.
ICD_QUESTIONS = [
    ("What is the ICD-10 code for spontaneous tension pneumothorax?", "J93.0"),
    ("ICD-10-CM code for type 2 diabetes", "E11"),
    ("icd code essential hypertension", "I10"),
    ("ICD-10 code for acute myocardial infarction", "I21"),
    ("code for atrial fibrillation and flutter", "I48"),
    ("ICD-10 code pneumonia unspecified organism", "J18"),
    ("what code do I use for asthma", "J45"),
    ("ICD-10 code for COPD", "J44"),
    ("code for heart failure", "I50"),
    ("icd10 code pleural effusion", "J90"),
    ("ICD-10 code for pulmonary embolism", "I26"),
    ("ICD code for urinary tract infection, site not specified", "N39.0"),
    ("icd-10 for acute kidney failure", "N17"),
    ("billing code migraine", "G43"),
    ("ICD-10 code for epilepsy", "G40"),
    ("ICD-10-CM code for iron deficiency anemia", "D50"),
    ("code for major depressive disorder single episode", "F32"),
    ("ICD-10 code for hypothyroidism, unspecified", "E03.9"),
    ("ICD code for obesity", "E66"),
    ("icd 10 code for gastro-esophageal reflux disease", "K21"),
    ("ICD-10 code for acute appendicitis", "K35"),
    ("icd code cholelithiasis (gallstones)", "K80"),
    ("ICD-10 code for sepsis, unspecified organism", "A41.9"),
    ("code for COVID-19", "U07.1"),
    ("ICD-10 code for low back pain", "M54.5"),
    ("ICD code for osteoporosis without fracture", "M81"),
    ("icd-10 code for rheumatoid arthritis with rheumatoid factor", "M05"),
    ("ICD-10 code for chronic kidney disease", "N18"),
    ("code for deep vein thrombosis of lower extremity", "I82.4"),
    ("ICD-10 code for cerebral infarction", "I63"),
    ("ICD-10-CM code for syncope and collapse", "R55"),
    ("ICD code for fever, unspecified", "R50.9"),
    ("icd-10 code for headache", "R51"),
    ("ICD-10 code for dysphagia", "R13"),
    ("code for hematuria", "R31"),
]

# Questions the knowledge base cannot answer (the retriever should abstain).
NEGATIVE_QUESTIONS = [
    "Who won the football world cup in 1998?",
    "How do I bake sourdough bread?",
    "What is the capital city of Australia?",
    "Recommend a good laptop for programming",
    "What time does the train to Paris leave?",
    "How do I change a car tyre?",
    "Write a poem about the sea",
    "What is the exchange rate of the euro today?",
    "Explain the rules of chess",
    "How tall is the Eiffel Tower?",
    "best pizza restaurant near me",
    "How do I install Python on Windows?",
    "What is the plot of Hamlet?",
    "Translate good morning into Japanese",
    "What is the boiling point of ethanol in Fahrenheit?",
    "Who painted the Mona Lisa?",
]

LAYPERSON_TEMPLATES = [
    "What is the medical term for {s}?",
    "{s}",
    "My child has {s}. What is that called?",
    "what do doctors call {s}",
]
N_LAYPERSON = 60


def main() -> None:
    from knowledge.kb.sources.hpo import HPOSource

    terms = HPOSource().terms()
    by_name = {t.name.lower(): t for t in terms}
    by_syn: dict[str, str] = {}
    for t in terms:
        for s in t.synonyms:
            by_syn.setdefault(s.lower(), t.id)
    rows: list[dict[str, object]] = []

    def hpo_id(name: str) -> str:
        t = by_name.get(name.lower())
        if t is not None:
            return t.id
        if name.lower() in by_syn:
            return by_syn[name.lower()]
        raise SystemExit(f"HPO term not found: {name}")

    for q, name in HPO_QUESTIONS:
        rows.append(
            {
                "question": q,
                "relevant": [f"hpo:{hpo_id(name)}"],
                "collection": "passages",
                "kind": "handwritten",
            }
        )
    for q, name in ABBREV_QUESTIONS:
        rows.append(
            {
                "question": q,
                "relevant": [f"hpo:{hpo_id(name)}"],
                "collection": "passages",
                "kind": "abbreviation",
            }
        )
    from knowledge.kb.sources.icd10cm import ICD10CMSource

    icd_ids = {c.id for c in ICD10CMSource().chunks()}
    for q, code in ICD_QUESTIONS:
        cid = f"icd10cm:{code}"
        if cid not in icd_ids:
            raise SystemExit(f"ICD-10-CM code not in the default collection: {code}")
        rows.append({"question": q, "relevant": [cid], "collection": "icd10cm", "kind": "icd"})
    rng = random.Random(20250116)
    lay = [
        (s, t)
        for t in terms
        for s in t.layperson
        if s.lower() != t.name.lower() and len(s) > 6 and by_syn.get(s.lower()) == t.id
    ]
    used = {r["question"] for r in rows}
    for i, (s, t) in enumerate(rng.sample(lay, N_LAYPERSON)):
        q = LAYPERSON_TEMPLATES[i % len(LAYPERSON_TEMPLATES)].format(s=s[0].lower() + s[1:])
        if q in used:
            continue
        rows.append(
            {
                "question": q,
                "relevant": [f"hpo:{t.id}"],
                "collection": "passages",
                "kind": "layperson",
            }
        )
    for q in NEGATIVE_QUESTIONS:
        rows.append({"question": q, "relevant": [], "collection": "passages", "kind": "negative"})
    rng.shuffle(rows)
    for i, r in enumerate(rows):
        r["id"] = f"q{i + 1:03d}"
        r["split"] = "dev" if i % 3 == 0 else "test"
    out = Path(__file__).with_name("queries.jsonl")
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(
                json.dumps(
                    {k: r[k] for k in ("id", "split", "kind", "collection", "question", "relevant")}
                )
                + "\n"
            )
    print(f"wrote {len(rows)} queries to {out}")


if __name__ == "__main__":
    main()
