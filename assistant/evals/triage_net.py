"""The learned net's emergency raise on round 10's sets, simulated from recorded plays
(``python -m assistant.evals.triage_loso --record DIR ...`` and ``--net-table DOC NETS EXTRA``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from assistant.core.evaldocs import write_marked
from assistant.evals.triage_devrun import prepare_data
from assistant.evals.triage_play import score
from assistant.evals.triage_report import pct
from assistant.evals.triage_set import BLIND_SETS, RANK, gold_level, load_set, set_label
from assistant.evals.triage_train import (
    EMERGENCY_AGREEMENT,
    EMERGENCY_LUKEWARM,
    EMERGENCY_MIN_WORDS,
    EMERGENCY_THRESHOLD,
    EXTRA_SETS,
    ROUND10_SETS,
)
from tools.triage.classifier import story_words
from tools.triage.lexicon import use_data_dir

# The learned net's emergency raise, simulated exactly. A play records, at every turn the net
# reads the story, its P(emergency), the story's length and the rules' own level; the emergency
# raise is switched off. A raise at a turn makes the episode an emergency for good (a learned
# floor stands, and an emergency asks nothing more), and the turns before it are the same with or
# without it; without one, the played level stands. So any emergency-raise rule (threshold, the
# rules' agreement, a story's minimum length) is scored from one play per set and net. Since
# round 15 a reading also keeps each member's P(today) and whether the urgent raise fired: a
# stricter urgent raise changes only the stories where it fired at a reading it would veto (those
# are played again; the others' plays stand).
NET_BLOCK = "eval-triage-net-round10"
# round 10's sets: the other authors' sets the net was trained on or tried with (``--extra``)
NET_SETS = tuple(s for s in (*ROUND10_SETS, *EXTRA_SETS) if s in BLIND_SETS)


def record_play(name: str, classifier: Path, only: Collection[str] | None = None) -> dict[str, Any]:
    """Play set ``name`` through the whole assistant with the net of ``classifier`` (its emergency
    raise off), keeping each vignette's result and each net reading; ``only``: those stories."""
    from unittest import mock

    import tools.triage as triage
    from assistant.core.config import load_settings
    from assistant.evals import triage as E

    raw = json.loads(classifier.read_text(encoding="utf-8"))
    raising = emergency_off(raw)
    log: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    decide, assess_story, play = triage.decide, triage.assess_story, E.play_safely

    def rules(*a: Any, **k: Any) -> Any:  # the rules' own decision (no learned floor or gate)
        d = decide(*a, **k)
        if d is not None and not k.get("learned_floor") and not k.get("home_care"):
            current["rules"] = d.level
        return d

    def net(text: str, embedder: Any, model: Any = None) -> Any:
        view = assess_story(text, embedder, model)
        p = None if view is None else view["probabilities"]["emergency"]
        if view and "members" in view:
            p = max((view["members"][i]["emergency"] for i in raising), default=None)
        log.append(
            {"id": current["id"], "words": story_words(text), "rules": current["rules"], "p_em": p}
        )
        if view and "members" in view:
            log[-1]["members"] = [m["emergency"] for m in view["members"]]
            log[-1]["today"] = [round(m["emergency"] + m["urgent"], 3) for m in view["members"]]
        if view is not None:
            log[-1]["raise"] = view["raise_to"]  # the urgent raise (the emergency one is off)
        return view

    def played(bot: Any, v: dict[str, Any], kinds: Any, echo: Any) -> dict[str, Any]:
        current["id"] = v["id"]
        return play(bot, v, kinds, echo)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare_data(folder, None, None)
        (folder / "classifier.json").write_text(json.dumps(raw), encoding="utf-8")
        use_data_dir(folder)
        try:
            with (
                mock.patch.object(triage, "decide", rules),
                mock.patch.object(triage, "assess_story", net),
                mock.patch.object(E, "play_safely", played),
            ):
                data, split, ids = load_set(name)
                ids = [i for i in ids if only is None or i in only]
                results, _d, _s = E.run_vignettes(
                    load_settings(), ids, loaded=(data, split), echo=lambda *a: None
                )
        finally:
            use_data_dir(None)
    return {"set": name, "classifier": str(classifier), "results": results, "log": log}


def emergency_off(raw: dict[str, Any]) -> list[int]:
    """Switch every emergency raise of a data file ``raw`` off (the ensemble's and each member's
    own), and say which members could raise before (an ensemble: those whose own threshold, or
    the ensemble's, was set; their highest P(emergency) is what a play logs). The simulation
    judges that reading at one threshold (``NET13_RULE``), so the members that raise must share
    the ensemble's threshold."""
    top = raw.get("emergency_threshold")
    members = raw.get("members", [])
    raising = [i for i, m in enumerate(members) if m.get("emergency_threshold", top) is not None]
    if any(members[i].get("emergency_threshold", top) != top for i in raising):
        raise ValueError("a member raises to emergency at its own threshold: not simulated")
    raw["emergency_threshold"] = None
    for m in members:
        m["emergency_threshold"] = None
    return raising


def simulate(
    record: dict[str, Any],
    threshold: float | None,
    rule_levels: tuple[str, ...] = (),
    min_words: int = 0,
    member_floor: tuple[int, float] | None = None,
    shorter: tuple[int, float] | None = None,
    lukewarm: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The metrics of ``record``'s set under an emergency raise at ``threshold`` (None: off) that
    needs the rules' level among ``rule_levels`` (empty: any) and ``min_words`` words, plus the
    false emergencies (emergency given where the gold level is lower). ``member_floor`` (i, p):
    the raise also needs the ensemble's member i to give P(emergency) >= p (it does not
    contradict); ``shorter`` (w, t): a story of fewer than w words needs P(emergency) >= t;
    ``lukewarm`` (w, t): no raise when the word net (member 0) reads below w and the raising
    reading is below t (both nets lukewarm)."""

    def needed(e: dict[str, Any]) -> float:
        assert threshold is not None
        return shorter[1] if shorter and e["words"] < shorter[0] else threshold

    def fires(e: dict[str, Any]) -> bool:
        return (
            threshold is not None
            and e["p_em"] is not None
            and e["p_em"] >= needed(e)
            and e["words"] >= min_words
            and (not rule_levels or e["rules"] in rule_levels)
            and (member_floor is None or e["members"][member_floor[0]] >= member_floor[1])
            and (lukewarm is None or e["members"][0] >= lukewarm[0] or e["p_em"] >= lukewarm[1])
        )

    raised = {e["id"] for e in record["log"] if fires(e)}
    pairs = [
        (gold_level(r["gold"]), "emergency" if r["id"] in raised else r["pred"])
        for r in record["results"]
    ]
    m = score(pairs)
    m["false_emergencies"] = sum(p == "emergency" and g != "emergency" for g, p in pairs)
    # the learned urgent raise's false ones: urgent given where the gold level is lower and the
    # rules' own level at the story's last reading was lower too (the floor decided it)
    last = {e["id"]: e["rules"] for e in record["log"]}
    m["false_urgent"] = sum(
        p == "urgent"
        and RANK.get(g, 0) < RANK["urgent"]
        and RANK.get(last.get(r["id"]) or "", -1) < RANK["urgent"]
        for (g, p), r in zip(pairs, record["results"], strict=True)
    )
    return m


# Round 15: stricter urgent raises, each a test on a reading where the recorded (shipped) urgent
# raise fired (``today``: the members' P(today), word net first; ``words``: the story's length).
# A stricter raise changes a story only when it vetoes the first reading at which the recorded
# raise fired (the floor stands from there on); those stories are played again with it.
URGENT_RULES: dict[str, Callable[[dict[str, Any]], bool]] = {
    # U1: every member's P(today) at or above 0.3 (none sure the story can wait)
    "U1": lambda e: min(e["today"]) >= 0.3,
    # U2: the MiniLM net's urgent threshold 0.8 (the word net's stays 0.8 from 15 words)
    "U2": lambda e: (e["today"][0] >= 0.8 and e["words"] >= 15) or e["today"][1] >= 0.8,
}


def urgent_changed(record: dict[str, Any], keeps: Callable[[dict[str, Any]], bool]) -> list[str]:
    """The stories of ``record`` whose first reading with the urgent raise fired is one a
    stricter raise (``keeps``: False to veto) would veto: their plays change from there on."""
    seen: set[str] = set()
    changed: list[str] = []
    for e in record["log"]:
        if e.get("raise") != "urgent" or e["id"] in seen:
            continue
        seen.add(e["id"])
        if not keeps(e):
            changed.append(e["id"])
    return changed


def with_replayed(base: dict[str, Any], replayed: dict[str, Any]) -> dict[str, Any]:
    """``base``'s record with the replayed stories' results and readings in place of its own."""
    ids = {r["id"] for r in replayed["results"]}
    return {
        **base,
        "results": [r for r in base["results"] if r["id"] not in ids] + replayed["results"],
        "log": [e for e in base["log"] if e["id"] not in ids] + replayed["log"],
    }


def render_net(
    rows: list[tuple[str, str, dict[str, Any]]], first: str = "net and emergency raise"
) -> str:
    """One table row per (mechanism, set, metrics); rows that all keep the learned urgent raise's
    false ones (round 15 on) get a column for them."""
    urgent = bool(rows) and all("false_urgent" in m for _l, _n, m in rows)
    extra = " learned urgent, gold lower |" if urgent else ""
    head = (
        f"| {first} | set | n | accuracy | emergency recall | self-care recall "
        f"| emergency/urgent → self-care or no level | false emergencies |{extra}\n"
        + "|---" * (9 if urgent else 8)
        + "|\n"
    )
    body = [
        f"| {label} | {set_label(name)} | {m['n']} | {pct(m['accuracy'])} "
        f"| {pct(m['emergency_recall'])} | {pct(m['self_care_recall'])} "
        f"| {m['emergency_or_urgent_to_self_care']} | {m['false_emergencies']} |"
        + (f" {m['false_urgent']} |" if urgent else "")
        for label, name, m in rows
    ]
    return head + "\n".join(body) + "\n"


def net_table(runs: list[tuple[str, Path, dict[str, Any], bool]], sets: list[str]) -> str:
    """Rows for each (label, records folder, emergency-raise rule: ``simulate``'s keywords, per
    set or pooled only) over ``sets`` (FOLDER/SET.json each), pooled last."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for label, folder, rule, per_set in runs:
        label = f"{label}: {_describe(rule)}"
        pooled: dict[str, Any] = {"results": [], "log": []}
        for name in sets:
            rec = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            if per_set:
                rows.append((label, name, simulate(rec, **rule)))
            for key in ("results", "log"):
                pooled[key] += [{**x, "id": f"{name}/{x['id']}"} for x in rec[key]]
        rows.append((label, "pooled", simulate(pooled, **rule)))
    return render_net(rows)


def _describe(rule: dict[str, Any]) -> str:
    if rule["threshold"] is None:
        return "no emergency raise"
    parts = [f"P(em) ≥ {rule['threshold']}"]
    if rule.get("rule_levels"):
        parts.append("rules' own level " + " or ".join(rule["rule_levels"]))
    if rule.get("min_words"):
        parts.append(f"story ≥ {rule['min_words']} words")
    return ", ".join(parts)


def round10_runs(nets: Path, extra: Path) -> list[tuple[str, Path, dict[str, Any], bool]]:
    """Round 10's rows: the emergency raise before and after (per set) and the alternatives
    (pooled), from the folds of the shipped training sets (``nets``) and of ``--extra``."""
    chosen = {"threshold": EMERGENCY_THRESHOLD, "min_words": EMERGENCY_MIN_WORDS}
    return [
        ("before (8 training sets)", nets, {"threshold": 0.5}, True),
        ("after (8 training sets)", nets, chosen, True),
        ("8 training sets", nets, {"threshold": None}, False),
        ("8 training sets", nets, {"threshold": 0.6}, False),
        ("8 training sets", nets, {"threshold": 0.7}, False),
        ("8 training sets", nets, {"threshold": 0.5, "rule_levels": ("urgent",)}, False),
        ("11 training sets", extra, {"threshold": 0.5}, False),
        ("11 training sets", extra, {**chosen, "rule_levels": ("urgent",)}, False),
        ("11 training sets", extra, chosen, False),
    ]


def write_net_table(doc: Path, nets: Path, extra: Path) -> bool:
    """Round 10's table into ``doc``'s ``NET_BLOCK`` (False when the markers are missing)."""
    if NET_BLOCK not in doc.read_text(encoding="utf-8"):
        return False
    return write_marked(doc, NET_BLOCK, net_table(round10_runs(nets, extra), list(NET_SETS)))


# Round 13: the nets compared by leave-one-set-out plays of the development sets b to l (one
# --record folder per candidate, each set played with a net that never saw it). The metrics
# (no story) are kept in docs/triage_runs/, and the docs table is rendered from that file.
NET13_BLOCK = "eval-triage-net-round13"
NET13_SETS = ("b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l")
NET13_RULE: dict[str, Any] = {"threshold": EMERGENCY_THRESHOLD, "min_words": EMERGENCY_MIN_WORDS}
# Round 14's variants of the shipped emergency raise, named for ``--net-summary``'s LABEL=DIR@RULE
# (the ensemble's member 0 is the word net, member 1 the MiniLM net that raises)
# the shipped veto: the word net's P(emergency) at or above ``EMERGENCY_AGREEMENT`` (the
# ensemble's setting, one value for the product and its simulations)
SHIPPED_VETO: dict[str, Any] = {"member_floor": (0, EMERGENCY_AGREEMENT)}
NET14_RULES: dict[str, dict[str, Any]] = {
    "word-agrees": SHIPPED_VETO,  # as shipped
    "short-0.6": {"shorter": (40, 0.6)},  # P(emergency) >= 0.6 under 40 words
    # round 14's part D: variants of the shipped raise (word-agrees), scored on sets s and t too
    "word-0.2": {"member_floor": (0, 0.2)},  # the word net's veto at 0.2
    "word-0.3": {"member_floor": (0, 0.3)},  # the word net's veto at 0.3
    "minilm-0.6": {**SHIPPED_VETO, "threshold": 0.6},  # the MiniLM net's P >= 0.6
    "minilm-0.7": {**SHIPPED_VETO, "threshold": 0.7},  # the MiniLM net's P >= 0.7
    # the rules' own level at that reading urgent (a rules' emergency is never raised)
    "rules-urgent": {**SHIPPED_VETO, "rule_levels": ("urgent",)},
    # the rules' own level at that reading routine or urgent (not self-care)
    "rules-not-home": {**SHIPPED_VETO, "rule_levels": ("routine", "urgent")},
    # looked at after part D's candidates were scored (not one of them): the shipped raise,
    # vetoed when the word net reads below 0.3 and the MiniLM net below 0.6
    "lukewarm": {**SHIPPED_VETO, "lukewarm": (0.3, 0.6)},
    "off": {"threshold": None},  # no learned emergency raise (what the raise earns)
    # round 15's P1, written down before sets w and x were scored: the lukewarm veto at the
    # members' ``EMERGENCY_LUKEWARM`` (the values the product reads where it ships)
    "P1": {
        **SHIPPED_VETO,
        "lukewarm": (EMERGENCY_LUKEWARM["tfidf-words"], EMERGENCY_LUKEWARM["minilm"]),
    },
}
_KEPT = (
    "n",
    "accuracy",
    "emergency_recall",
    "self_care_recall",
    "emergency_or_urgent_to_self_care",
    "false_emergencies",
    "false_urgent",
)


def summarise(
    candidates: list[tuple[str, Path, bool]],
    rules: dict[str, str] | None = None,
    sets: tuple[str, ...] = NET13_SETS,
) -> list[dict[str, Any]]:
    """Rows (candidate, set, metrics) for each (label, records folder, per set or pooled only)
    over ``sets`` (FOLDER/SET.json each; b to l unless told), the emergency raise as shipped
    (``NET13_RULE``), or as a label's variant in ``rules`` (label -> a ``NET14_RULES`` name);
    pooled last."""
    rows: list[dict[str, Any]] = []
    rules = rules or {}
    for label, folder, per_set in candidates:
        rule = {**NET13_RULE, **NET14_RULES.get(rules.get(label, ""), {})}
        pooled: dict[str, Any] = {"results": [], "log": []}
        for name in sets:
            rec = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            if per_set:
                rows.append(_row(label, name, rec, rule))
            for key in ("results", "log"):
                pooled[key] += [{**x, "id": f"{name}/{x['id']}"} for x in rec[key]]
        rows.append(_row(label, "pooled", pooled, rule))
    return rows


def _row(label: str, name: str, rec: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    m = simulate(rec, **rule)
    return {"candidate": label, "set": name, **{k: m[k] for k in _KEPT}}


def write_summary_table(doc: Path, summary: Path | list[Path], block: str = NET13_BLOCK) -> bool:
    """A kept summary's table (round 13's, or a later round's ``block``; several summaries: their
    rows one after the other) into ``doc``'s markers (False when they are missing)."""
    files = summary if isinstance(summary, list) else [summary]
    rows = [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))]
    return write_marked(doc, block, render_summary(rows))


def render_summary(rows: list[dict[str, Any]]) -> str:
    return render_net([(r["candidate"], r["set"], r) for r in rows], "candidate")
