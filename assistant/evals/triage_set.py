"""The frozen triage vignette sets (``assistant/data/eval/``): loading and checking them, and the
simulated patient's scripted answers."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from assistant.core.errors import UserError

LEVELS = ("emergency", "urgent", "routine", "self_care")
RANK = {"self_care": 0, "routine": 1, "urgent": 2, "emergency": 3}
MAX_ROUNDS = 4
PUBLISHED = {
    "source": "Semigran et al., BMJ 2015;351:h3480 (23 symptom checkers, 45 vignettes, 3 levels)",
    "appropriate_triage": 0.57,
    "emergency": 0.80,
    "self_care": 0.33,
}
MARK_START = "<!-- generated:eval-triage -->"
MARK_END = "<!-- /generated:eval-triage -->"


def _data(name: str) -> bytes:
    return resources.files("assistant.data.eval").joinpath(name).read_bytes()


class VignetteSet(NamedTuple):
    """One shipped vignette set: its files in ``assistant/data/eval/`` and its name in tables."""

    vignettes: str
    split: str
    label: str  # how the docs tables name ``--set NAME`` (its test split)
    blind: bool = False  # another author's blind set: all test, run untuned, then read


# every shipped set, by the name ``--set`` and ``load_vignettes(which=...)`` take: adding a set
# is one entry here
SETS = {
    "main": VignetteSet("triage_vignettes.yaml", "triage_split.json", "test split"),
    "second": VignetteSet("triage_vignettes_2.yaml", "triage_split_2.json", "second set"),
    "third": VignetteSet("triage_vignettes_3.yaml", "triage_split_3.json", "third set"),
    # two blind sets by other authors, each run once untuned and then read: development and
    # training data (the triage classifier is trained on them), no longer held out
    "b": VignetteSet("triage_vignettes_b.yaml", "triage_split_b.json", "set b", True),
    "c": VignetteSet("triage_vignettes_c.yaml", "triage_split_c.json", "set c", True),
    # a fourth author's blind set, run untuned before and after the learned safety net, then
    # read: development and training data (the triage classifier is trained on it)
    "d": VignetteSet("triage_vignettes_d.yaml", "triage_split_d.json", "set d", True),
    # a fifth author's blind set, run untuned before and after round 6, then read: development
    # data and training data of the triage classifier
    "e": VignetteSet("triage_vignettes_e.yaml", "triage_split_e.json", "set e", True),
    # a sixth author's blind set, run untuned on three commits, then read: development data and
    # training data of the triage classifier
    "f": VignetteSet("triage_vignettes_f.yaml", "triage_split_f.json", "set f", True),
    # a seventh author's blind set, run untuned before and after round 7, then read: development
    # data (not in the classifier's training sets)
    "g": VignetteSet("triage_vignettes_g.yaml", "triage_split_g.json", "set g", True),
    # an eighth author's blind set, run untuned before and after round 8, then read
    "h": VignetteSet("triage_vignettes_h.yaml", "triage_split_h.json", "set h", True),
    # a ninth author's blind set, run untuned after rounds 8 and 9, then read
    "i": VignetteSet("triage_vignettes_i.yaml", "triage_split_i.json", "set i", True),
    # a tenth author's blind set, run untuned before and after round 10, then read
    "j": VignetteSet("triage_vignettes_j.yaml", "triage_split_j.json", "set j", True),
    # an eleventh author's blind set, run untuned after rounds 9, 10 and 11, then read
    "k": VignetteSet("triage_vignettes_k.yaml", "triage_split_k.json", "set k", True),
    # a twelfth author's blind set, run untuned during and after round 11, then read
    "l": VignetteSet("triage_vignettes_l.yaml", "triage_split_l.json", "set l", True),
    # two new authors' sets written at the start of round 14, run once untuned and then read:
    # development data for the rules (not in the triage classifier's training sets yet)
    "s": VignetteSet("triage_vignettes_s.yaml", "triage_split_s.json", "set s", True),
    "t": VignetteSet("triage_vignettes_t.yaml", "triage_split_t.json", "set t", True),
    # two new authors' sets written at the start of round 15, run once untuned and then read:
    # development data (not in the triage classifier's training sets)
    "w": VignetteSet("triage_vignettes_w.yaml", "triage_split_w.json", "set w", True),
    "x": VignetteSet("triage_vignettes_x.yaml", "triage_split_x.json", "set x", True),
}
BLIND_SETS = tuple(name for name, s in SETS.items() if s.blind)
# later held-out sets (all test), each written after the previous one's error analysis
HELDOUT = (("second", "holdout2"), ("third", "holdout3"))


def load_vignettes(
    check_frozen: bool = True, which: str = "main"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the vignette file, the split). Refuses a vignette file whose hash differs from the one
    frozen with the split: the set may not change after tuning started. ``which``: "main"
    (dev/test split) or "second" (a later held-out set, all test)."""
    vignettes, split_name = SETS[which].vignettes, SETS[which].split
    raw = _data(vignettes)
    split = json.loads(_data(split_name))
    if check_frozen and hashlib.sha256(raw).hexdigest() != split["vignettes_sha256"]:
        raise UserError(
            f"{vignettes} differs from the frozen set ({split_name}): restore it; "
            "a changed set needs a new split and must be reported as such"
        )
    return yaml.safe_load(raw), split


def gold_level(value: Any) -> str:
    """A gold level as written ("Self-care", " urgent ") in the evaluator's spelling."""
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def _vignette_problem(v: Any) -> str | None:
    """Why one vignette of another file cannot be played (None when it can)."""
    if not isinstance(v, dict):
        return "is not a mapping"
    if not isinstance(v.get("id"), str | int) or str(v["id"]).strip() == "":
        return "has no id"
    if gold_level(v.get("level")) not in LEVELS:
        return f"has level {v.get('level')!r}"
    turns = v.get("turns")
    if isinstance(turns, str):
        turns = [turns]
    if (
        not isinstance(turns, list)
        or not turns
        or not all(isinstance(t, str | int | float) and str(t).strip() for t in turns)
    ):
        return "has no turns (a list of what the person types)"
    if not isinstance(v.get("answers") or {}, dict):
        return "has answers that are not a mapping of topic: reply"
    return None


def load_file(path: Path, split_path: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Another vignette file in the same format (``topics``, ``vignettes`` with ``id``,
    ``level``, ``turns``, optional ``answers``), with its own split file (JSON ``{"dev": [ids],
    "test": [ids]}``, optionally ``vignettes_sha256``) or, without one, all of it as test."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the vignette file {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if isinstance(data, list):  # a bare list of vignettes
        data = {"vignettes": data}
    items = data.get("vignettes") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise UserError(f"{path} has no `vignettes:` list (see triage_vignettes.yaml's format)")
    ids: list[str] = []
    for i, v in enumerate(items):
        problem = _vignette_problem(v)
        if problem:
            name = v.get("id") if isinstance(v, dict) and v.get("id") is not None else i + 1
            raise UserError(
                f"{path}: vignette {name} {problem}: each needs an id, a level "
                f"({', '.join(LEVELS)}) and a list of turns (text)"
            )
        v["id"] = str(v["id"])
        v["level"] = gold_level(v["level"])
        v["turns"] = [str(t) for t in ([v["turns"]] if isinstance(v["turns"], str) else v["turns"])]
        v["answers"] = {str(k): a for k, a in (v.get("answers") or {}).items() if a is not None}
        v["rationale"] = str(v.get("rationale") or "")
        ids.append(v["id"])
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise UserError(f"{path}: vignette ids must be unique ({', '.join(dup[:5])} repeated)")
    # the shipped topic kinds, overridden by the file's own (a topic the file adds keeps its kind)
    topics = dict(load_vignettes()[0]["topics"])
    if isinstance(data.get("topics"), dict):
        topics.update({str(k): str(x) for k, x in data["topics"].items()})
    data["topics"] = topics
    sha = hashlib.sha256(raw).hexdigest()
    if split_path is None:
        return data, {"dev": [], "test": ids, "seed": None, "vignettes_sha256": sha}
    try:
        split = json.loads(split_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the split file {split_path}: {exc}") from exc
    if not isinstance(split, dict) or not isinstance(split.get("test"), list):
        raise UserError(f"{split_path} needs a `test` list of vignette ids (and may have `dev`)")
    split.setdefault("dev", [])
    unknown = set(map(str, [*split["dev"], *split["test"]])) - set(ids)
    if unknown:
        raise UserError(f"{split_path} names vignettes that {path} lacks: {sorted(unknown)[:5]}")
    if split.get("vignettes_sha256") not in (None, sha):
        raise UserError(f"{path} differs from the file frozen with {split_path}")
    split["dev"], split["test"] = [str(i) for i in split["dev"]], [str(i) for i in split["test"]]
    split.setdefault("seed", None)
    split["vignettes_sha256"] = sha
    return data, split


def load_set(name: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(vignettes, split, the ids to play) for ``--set NAME``: ``main:dev`` or another
    ``SET:PART``, a shipped set's name (its test split) or a vignette file (all of it)."""
    if ":" in name and not Path(name).exists():
        which, part = name.split(":", 1)
        data, split = load_vignettes(which=which)
        return data, split, list(split[part])
    if name in SETS:
        data, split = load_vignettes(which=name)
        return data, split, list(split["test"])
    data, split = load_file(Path(name))
    return data, split, list(split["test"])


def set_label(name: str) -> str:
    """How a docs table names ``--set NAME`` ("set b", "dev split"); anything else as given."""
    which, _, part = name.partition(":")
    if which == "main" and part in ("dev", "test"):
        return f"{part} split"
    return SETS[name].label if name in SETS else name


def patient_answer(vignette: dict[str, Any], topics: list[str], kinds: dict[str, str]) -> str:
    """The simulated patient's reply to one question about ``topics``."""
    scripted = vignette.get("answers") or {}
    parts = []
    for topic in topics:
        text = scripted.get(topic)
        if text is None:
            # a vignette lists every abnormal feature: an unscripted yes/no topic (also one the
            # vignette vocabulary lacks) is answered "No.", an unscripted value "I'm not sure."
            text = "I'm not sure." if kinds.get(topic) == "value" else "No."
        text = str(text).strip()
        parts.append(text if text[-1:] in ".!?" else text + ".")
    return " ".join(parts)
