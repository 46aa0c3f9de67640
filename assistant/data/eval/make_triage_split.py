"""Freezes the triage vignettes: a seeded dev/test split stratified by gold level.

Run once: .venv/bin/python -m assistant.data.eval.make_triage_split  (deterministic).
Writes triage_split.json with the vignette file's SHA-256, so any later edit of a vignette is
detected (`clinassist eval triage` refuses a changed file, and a test checks the hash).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
VIGNETTES = HERE / "triage_vignettes.yaml"
SPLIT = HERE / "triage_split.json"
SEED = 13
TEST_FRACTION = 0.5


def main() -> None:
    raw = VIGNETTES.read_bytes()
    items = yaml.safe_load(raw)["vignettes"]
    by_level: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_level[item["level"]].append(item["id"])
    rng = random.Random(SEED)
    dev: list[str] = []
    test: list[str] = []
    for level in sorted(by_level):
        ids = sorted(by_level[level])
        rng.shuffle(ids)
        cut = round(len(ids) * TEST_FRACTION)
        test += ids[:cut]
        dev += ids[cut:]
    SPLIT.write_text(
        json.dumps(
            {
                "vignettes_sha256": hashlib.sha256(raw).hexdigest(),
                "seed": SEED,
                "method": "stratified by gold level, random.Random(seed).shuffle of sorted ids, "
                "first half of each level -> test",
                "dev": sorted(dev),
                "test": sorted(test),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"dev {len(dev)}, test {len(test)} -> {SPLIT.name}")


if __name__ == "__main__":
    main()
