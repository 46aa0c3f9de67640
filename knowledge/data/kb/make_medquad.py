"""Builds the shipped consumer-health files from upstream checkouts (run by a maintainer; the
product never reads the upstream repositories):

    python -m knowledge.data.kb.make_medquad MEDQUAD_DIR LIVEQA_DIR

- ``medquad.jsonl.gz``: one record per MedQuAD question-answer pair with an answer (the
  A.D.A.M., MedlinePlus Drugs and Herbs subsets ship without answers and are skipped), text
  cleaned (see :func:`clean_answer`); identical answers are kept once.
- ``medquad_heldout.jsonl``: held-out MedQuAD questions for retrieval evaluation. Topics are
  split dev/test/unused by a seeded hash of the normalised topic name, so every question about
  one topic (in any subset) falls in one split; the answers of every topic stay in the corpus.
  The question wording itself is never indexed.
- ``liveqa_test.jsonl``: the 104 TREC 2017 LiveQA medical test questions (consumer questions
  sent to the U.S. National Library of Medicine), with the MedQuAD answers that Ben Abacha &
  Demner-Fushman (2019) judged for them, mapped to this corpus's passage ids by answer text.
  The LiveQA reference answers (web pages of other publishers) are not copied.

Deterministic: re-running on the same inputs gives byte-identical files (review the diff).
See SOURCES.md for licences.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent
SUBSETS = {
    "1_CancerGov_QA": "CancerGov",
    "2_GARD_QA": "GARD",
    "3_GHR_QA": "GHR",
    "4_MPlus_Health_Topics_QA": "MPlusHealthTopics",
    "5_NIDDK_QA": "NIDDK",
    "6_NINDS_QA": "NINDS",
    "7_SeniorHealth_QA": "NIHSeniorHealth",
    "8_NHLBI_QA_XML": "NHLBI",
    "9_CDC_QA": "CDC",
}
"""Subsets with answers (folder -> source name used in MedQuAD's own answer ids)."""
SKIPPED = ("10_MPlus_ADAM_QA", "11_MPlusDrugs_QA", "12_MPlusHerbsSupplements_QA")
SEED = "medquad-heldout-v1"
DEV_SHARE, TEST_SHARE = 0.15, 0.15
DEV_QUESTIONS, TEST_QUESTIONS = 400, 1200
LIVEQA_DEV_SHARE = 1 / 3

_HEADING = re.compile(
    r"(?:(?<=^)|(?<=[.!?:]\s)|(?<=\n))\s*(?:What|How|Is|Are|Can|Who|When|Where|Why|Do|Does|"
    r"Which|Should)\b[^.?!\n]{0,160}\?\s*",
)
_GARD_HPO_INTRO = re.compile(
    r"The Human Phenotype Ontology provides the following list of signs and symptoms for .*?"
    r"(?:look up the definitions for these medical terms\.\s*)",
    re.S,
)
_GARD_HPO_OUTRO = re.compile(
    r"The Human Phenotype Ontology \(HPO\) has collected information on how often .*$", re.S
)
_TABLE_HEAD = re.compile(r"Signs and Symptoms Approximate number of patients \(when available\)\s*")
_MPLUS_CREDIT = re.compile(
    r"(?:\n|[ \t\u00a0]{2,})((?:NIH|CDC|FDA|[A-Z][A-Za-z.&' -]{1,60}):[ \t]+[A-Z][^.\n]{3,160})\s*$"
)
_BREAK = re.compile(r"[ \t\u00a0]{3,}|[ \t\u00a0]*\n\s*")
"""MedQuAD marks paragraph and list breaks by newlines or runs of spaces."""


def clean_answer(text: str, source: str) -> str:
    """Whitespace and list layout normalised (one list item per line); page headings phrased
    as questions ("What causes X?") removed (they repeat the question wording, which the index
    must not contain); GARD's boilerplate around HPO symptom tables removed; MedlinePlus's
    trailing credit line removed (kept as the passage's ``credit``)."""
    text = text.replace("\r", "")
    if source == "MPlusHealthTopics":
        text = _MPLUS_CREDIT.sub("", text.rstrip())
    text = _BREAK.sub("\n", text.strip())
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"\n-\s*", "\n- ", text)
    text = re.sub(r"^-\s*", "- ", text)
    if source == "GARD":
        text = _GARD_HPO_INTRO.sub("", text)
        text = _GARD_HPO_OUTRO.sub("", text)
        head_match = _TABLE_HEAD.search(text)
        if head_match:
            head, table = text[: head_match.start()], text[head_match.end() :]
            items = [i.strip(" -;\n") for i in re.split(r"\n- |\s-\s|\s-$|(?<=%)\s", table)]
            items = [i for i in items if i]
            listed = (
                "Signs and symptoms listed by the Human Phenotype Ontology: "
                + "; ".join(items)
                + "."
            )
            text = (head.strip() + "\n" if head.strip() else "") + (listed if items else "")
    text = _HEADING.sub(" ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{2,}", "\n", text).strip()
    return text


def credit(text: str) -> str:
    """The originating organisation named on a MedlinePlus summary's last line, if any."""
    m = _MPLUS_CREDIT.search(text.rstrip())
    return m.group(1).strip() if m else ""


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _bucket(key: str) -> float:
    return int(hashlib.sha256(f"{SEED}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def read_medquad(root: Path) -> list[dict[str, Any]]:
    """Every answered QA pair of the kept subsets, in folder and file order."""
    rows = []
    for folder, source in SUBSETS.items():
        for path in sorted((root / folder).glob("*.xml")):
            doc = ET.parse(path).getroot()
            # two layouts: <Document id source url><Focus>... and <doc docid corpus url>...; the
            # file name is unique where the id is not (CancerGov reuses ids across files)
            doc_id = path.stem
            url = doc.get("url", "")
            focus = (doc.findtext("Focus") or doc.findtext("doctitle-focus") or "").strip()
            synonyms = [
                (s.text or "").strip() for s in doc.iter("Synonym") if (s.text or "").strip()
            ]
            cuis = [(c.text or "").strip() for c in doc.iter("CUI") if (c.text or "").strip()]
            pairs = list(doc.iter("QAPair")) or list(doc.iter("pair"))
            for qa in pairs:
                q = qa.find("Question")
                if q is None:
                    q = qa.find("question")
                a = qa.find("Answer")
                if a is None:
                    a = qa.find("answer")
                raw = (a.text or "") if a is not None else ""
                if not raw.strip() or q is None:
                    continue
                rows.append(
                    {
                        "source": source,
                        "doc": doc_id,
                        "pid": qa.get("pid", ""),
                        "topic": focus,
                        "synonyms": synonyms,
                        "cuis": cuis,
                        "url": url,
                        "qtype": (q.get("qtype") or "information").strip().lower(),
                        "question": re.sub(r"\s+", " ", q.text or "").strip(),
                        "raw": raw,
                    }
                )
    return rows


def build_passages(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Passage records (identical cleaned answers kept once) and qa key -> passage id."""
    passages: list[dict[str, Any]] = []
    by_text: dict[str, str] = {}
    qa_to_passage: dict[str, str] = {}
    for r in rows:
        text = clean_answer(r["raw"], r["source"])
        key = f"{r['source']}_{r['doc']}_{r['pid']}"
        if len(text) < 20:
            continue
        norm = _norm(text)
        if norm in by_text:
            qa_to_passage[key] = by_text[norm]
            continue
        by_text[norm] = key
        qa_to_passage[key] = key
        rec = {
            "id": key,
            "source": r["source"],
            "topic": r["topic"],
            "qtype": r["qtype"],
            "url": r["url"],
            "text": text,
        }
        if r["synonyms"]:
            rec["synonyms"] = r["synonyms"][:12]
        if r["cuis"]:
            rec["cuis"] = r["cuis"][:4]
        if r["source"] == "MPlusHealthTopics" and credit(r["raw"]):
            rec["credit"] = credit(r["raw"])
        passages.append(rec)
    return passages, qa_to_passage


def heldout_questions(
    rows: list[dict[str, Any]], qa_to_passage: dict[str, str]
) -> list[dict[str, Any]]:
    """Seeded topic split, then a seeded sample of each split's questions."""
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for r in rows:
        key = f"{r['source']}_{r['doc']}_{r['pid']}"
        pid = qa_to_passage.get(key)
        if not pid or not r["question"]:
            continue
        b = _bucket(_norm(r["topic"]))
        split = "dev" if b < DEV_SHARE else "test" if b < DEV_SHARE + TEST_SHARE else ""
        if not split or (r["question"].lower(), pid) in seen:
            continue
        seen.add((r["question"].lower(), pid))
        by_split[split].append(
            {
                "id": f"mq-{key}",
                "question": r["question"],
                "relevant": [pid],
                "topic": r["topic"],
                "qtype": r["qtype"],
                "source": r["source"],
                "split": split,
            }
        )
    out = []
    for split, n in (("dev", DEV_QUESTIONS), ("test", TEST_QUESTIONS)):
        pool = sorted(by_split[split], key=lambda q: _bucket("q:" + q["id"]))
        out += sorted(pool[:n], key=lambda q: q["id"])
    return out


def _liveqa_judged(medquad_root: Path) -> list[tuple[str, int, str, str]]:
    """(question number, judgement 1-4, answer id, answer text) from MedQuAD's LiveQA qrels."""
    zpath = medquad_root / "QA-TestSet-LiveQA-Med-Qrels-2479-Answers.zip"
    with zipfile.ZipFile(zpath) as z:
        names = [n for n in z.namelist() if not n.startswith("__MACOSX")]
        qrels = next(n for n in names if n.endswith(".txt"))
        answers = next(n for n in names if n.endswith(".csv"))
        texts = {
            row[0]: row[1]
            for row in csv.reader(io.TextIOWrapper(z.open(answers), encoding="utf-8"))
            if len(row) == 2
        }
        out = []
        for line in z.read(qrels).decode("utf-8").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2] in texts:
                out.append((parts[0], int(parts[1][0]), parts[2], texts[parts[2]]))
    return out


def liveqa(
    medquad_root: Path, liveqa_root: Path, passages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The test questions with judged MedQuAD answers mapped to passage ids by answer text.
    Answers of the subsets without answers (A.D.A.M., drugs, herbs) cannot be mapped."""
    by_prefix: dict[str, str] = {}
    for p in passages:
        by_prefix.setdefault(_norm(p["text"])[:160], p["id"])
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    for qnum, score, answer_id, text in _liveqa_judged(medquad_root):
        answer = text.split("Answer:", 1)[-1].strip()
        answer = answer[:-1] if answer.endswith(")") else answer  # the CSV's closing bracket
        cleaned = _norm(clean_answer(answer, answer_id.split("_")[0]))[:160]
        pid = by_prefix.get(cleaned)
        if pid:
            judged[qnum][pid] = max(score, judged[qnum].get(pid, 0))
    path = liveqa_root / "TestDataset" / "TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml"
    root = ET.parse(path).getroot()
    out = []
    for q in root.iter("NLM-QUESTION"):
        qid = q.get("qid", "")
        num = qid.removeprefix("TQ")
        orig = q.find("Original-Question")
        subject = re.sub(r"\s+", " ", (orig.findtext("SUBJECT") if orig is not None else "") or "")
        message = re.sub(r"\s+", " ", (orig.findtext("MESSAGE") if orig is not None else "") or "")
        split = "dev" if _bucket("liveqa:" + qid) < LIVEQA_DEV_SHARE else "test"
        out.append(
            {
                "id": qid,
                "subject": subject.strip(),
                "message": message.strip(),
                "summary": re.sub(r"\s+", " ", q.findtext("NLM-Summary") or "").strip(),
                "focus": [(f.text or "").strip() for f in q.iter("FOCUS")],
                "types": [(t.text or "").strip() for t in q.iter("TYPE")],
                "judged": dict(sorted(judged.get(num, {}).items())),
                "split": split,
            }
        )
    return out


def _write_jsonl(path: Path, rows: list[dict[str, Any]], *, gz: bool = False) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    if gz:
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(data.encode("utf-8"))
    else:
        path.write_text(data, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    medquad_root, liveqa_root = Path(args[0]), Path(args[1])
    rows = read_medquad(medquad_root)
    passages, qa_to_passage = build_passages(rows)
    held = heldout_questions(rows, qa_to_passage)
    live = liveqa(medquad_root, liveqa_root, passages)
    _write_jsonl(OUT / "medquad.jsonl.gz", passages, gz=True)
    _write_jsonl(OUT / "medquad_heldout.jsonl", held)
    _write_jsonl(OUT / "liveqa_test.jsonl", live)
    judged = sum(1 for q in live if any(s >= 3 for s in q["judged"].values()))
    print(
        f"{len(rows)} answered QA pairs -> {len(passages)} passages; held-out questions: "
        f"{sum(q['split'] == 'dev' for q in held)} dev, {sum(q['split'] == 'test' for q in held)} "
        f"test; LiveQA: {len(live)} questions, {judged} with a judged-correct MedQuAD passage"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
