"""`clinassist eval phi --set FILE`: any file in the PHI set format is scored whole, a malformed
one gets one clear line (exit 2), and the report holds every type, precision, clinical words kept
and the baselines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.errors import UserError
from assistant.evals import phi as eval_phi
from assistant.evals import phi_openi as eval_phi_openi
from assistant.policy import phi
from tests.cli_helpers import run_cli

SET = (
    "# a set written elsewhere, same markup\n"
    "\n"
    "note\t[[NAME:Maria Garcia]], [[AGE:94]]F, seen [[DATE:3 March 2021]] for ((Parkinson disease)).\r\n"
    "message\tcall me on [[PHONE:07700 900123]] or [[email:a.b@example.org]]\n"
    "chat\tMRN [[ID:00482913]]; lives at [[ADDRESS:12 High Street]]; see [[URL:https://x.example]]\n"
)


def test_any_kind_word_comments_crlf_and_a_bom_are_read(tmp_path: Path) -> None:
    path = tmp_path / "set.txt"
    path.write_bytes(b"\xef\xbb\xbf" + SET.encode())
    items = eval_phi.load_file(path)
    assert [i.kind for i in items] == ["note", "message", "chat"]
    assert items[0].text.endswith("for Parkinson disease.")
    assert [(items[0].text[s:e], t) for s, e, t in items[0].gold] == [
        ("Maria Garcia", "NAME"),
        ("94", "AGE"),
        ("3 March 2021", "DATE"),
    ]
    assert items[1].gold[1][2] == "EMAIL"  # type names in any case
    assert {t for i in items for _, _, t in i.gold} == set(eval_phi.TYPES)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("note John Smith has no tab\n", "line 1: expected 'KIND<TAB>text'"),
        ("note\t[[NAMES:John]] x\n", "unknown type"),
        ("# c\nnote\t[[NAME:John Smith seen today\n", "line 2: unbalanced [["),
        ("note\tJohn]] Smith\n", "unbalanced ]]"),
        ("note\t   \n", "expected 'KIND<TAB>text'"),
        ("# only a comment\n", "no items"),
    ],
)
def test_a_malformed_set_is_one_clear_error(tmp_path: Path, body: str, says: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(says)):
        eval_phi.load_file(path)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("note\t[]():#NAMEDT xyz\n\r"), max_size=80))
def test_the_parser_never_fails_but_with_a_user_error(text: str) -> None:
    try:
        items = eval_phi.parse_file(text, "f", "p")
    except UserError as exc:
        assert "\n" not in exc.message
        return
    for item in items:
        for s, e, t in item.gold:
            assert 0 <= s < e <= len(item.text) and t in eval_phi.TYPES
        for s, e in item.protected:
            assert 0 <= s < e <= len(item.text)


def test_eval_phi_set_scores_every_item_with_the_baselines(
    tmp_path: Path, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rules only here (the library is stubbed out as unavailable): the command, the report's
    shape and the printed table; the real detector's figures come from the eval itself."""
    monkeypatch.setattr(phi.LIBRARY, "load", lambda: False)
    path = tmp_path / "blind.txt"
    path.write_text(SET, encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(cli_env, "eval", "phi", "--set", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads((out / "phi-set" / "phi.json").read_text())
    assert report["mode"] == "set" and report["n_items"] == 3
    assert report["split_sizes"] == {"set": 3} and report["tuned_on"] == []
    for system in ("baseline", "rules"):
        m = report[system]["set"]
        assert set(m["recall"]) == set(eval_phi.TYPES)
        assert m["gold"] == {t: 1 for t in eval_phi.TYPES}
        assert m["clinical_terms"] == 1 and m["precision"] is not None
    assert report["rules"]["set"]["recall"]["PHONE"] == 1.0
    assert "| cue-word regexes (before, baseline) | **whole set** |" in result.stdout
    assert "Precision per type" in result.stdout
    assert not (out / "phi.json").exists()  # the shipped sets' JSON is left alone


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["eval", "phi", "--set", "missing.txt"], "no such file"),
        (["eval", "kb", "--set", "x.txt"], "--set scores a PHI set"),
        (["eval", "phi", "--set", "x.txt", "--docs"], "--set prints its tables"),
    ],
)
def test_set_misuse_is_one_line_and_exit_2(
    tmp_path: Path, cli_env: dict[str, str], args: list[str], says: str
) -> None:
    result = run_cli(cli_env, *args, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_over_redaction_counts_only_redactions_off_the_masks() -> None:
    texts = ["INDICATION: Cardiomegaly\n\nFINDINGS: Dr. XXXX reviewed.", "IMPRESSION: Normal."]

    def detect(text: str) -> list[phi.Span]:
        if "Dr." not in text:
            return []
        return [
            phi.Span(text.index("Dr."), text.index("XXXX") + 4, "NAME", "t"),  # on a mask
            phi.Span(12, 24, "ADDRESS", "t"),
        ]

    m = eval_phi_openi.over_redaction(texts, detect)
    assert m["reports"] == 2 and m["redactions"] == 1 and m["per_100_reports"] == 50.0
    assert m["reports_with_any"] == 0.5 and m["commonest"] == ["ADDRESS Cardiomegaly (1)"]
    lines = eval_phi_openi.render({"combined": m}, {"combined": "default"})
    assert "| default | 50.0 | 50.0% |" in lines


def test_the_unread_openi_reports_are_the_test_split_past_the_read_rows() -> None:
    texts = eval_phi_openi.reports()
    assert texts is not None and 300 < len(texts) < 616
    assert sum(t.startswith("INDICATION: ") for t in texts) > 0.9 * len(texts)


@pytest.mark.parametrize(
    ("name", "n_items", "gold"),
    [
        ("phi_blind", 260, 577),
        ("phi_blind2", 220, 558),
        ("phi_blind3.txt", 220, 641),
        ("phi_blind4", 220, 554),
        ("phi_blind5", 220, 586),
        ("phi_blind6", 220, 520),
        ("phi_blind7", 220, 464),
    ],
)
def test_the_spent_blind_sets_ship_and_load_by_name(name: str, n_items: int, gold: int) -> None:
    """The three sets written by other authors are development data now: shipped, read by name,
    their header saying they are no longer held out."""
    items = eval_phi.load_file(Path(name))
    assert len(items) == n_items
    assert sum(len(i.gold) for i in items) == gold
    assert items[0].id.startswith(Path(name).stem)
    header = Path(eval_phi.__file__).parents[1] / "data" / "eval" / f"{Path(name).stem}.txt"
    assert "NO LONGER HELD OUT" in header.read_text(encoding="utf-8")[:2000]


def test_a_missing_set_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="phi_blind2"):
        eval_phi.load_file(tmp_path / "phi_blind2.txt")  # a path, not a name: not substituted
