"""Plain-English medical definitions from WordNet 3.0 (Debian ``wordnet-base``).

Synsets are selected by walking hypernym links up to medical roots (diseases, symptoms,
injuries, drugs, medical procedures, body parts). If the package is missing the source is
skipped with a message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge.kb.sources import Chunk, SourceUnavailableError, file_sha256

LICENCE = "WordNet 3.0 licence (Princeton University; BSD-like, attribution)"
VERSION = "3.0"
CANDIDATE_PATHS = (
    Path("/usr/share/wordnet/data.noun"),
    Path("/usr/share/wordnet/dict/data.noun"),
)
ENV_PATH = "WORDNET_DATA_NOUN"
APT_PACKAGE = "wordnet-base"

# (lemma, lexicographer file number): noun.state=26, noun.artifact=6, noun.act=4, noun.body=8.
ROOTS = {
    ("disease", 26),
    ("illness", 26),
    ("ill_health", 26),
    ("symptom", 26),
    ("injury", 26),
    ("pathology", 26),
    ("disorder", 26),
    ("drug", 6),
    ("medicine", 6),
    ("medication", 6),
    ("medical_procedure", 4),
    ("body_part", 8),
    ("organ", 8),
    ("infection", 26),
}


@dataclass
class Synset:
    offset: str
    lexfile: int
    words: list[str]
    hypernyms: list[str]
    gloss: str


def parse_data_noun(lines: Iterator[str] | list[str]) -> dict[str, Synset]:
    """Parse WordNet ``data.noun`` lines (licence header lines start with two spaces)."""
    out: dict[str, Synset] = {}
    for line in lines:
        if not line or line.startswith("  "):
            continue
        data, _, gloss = line.partition(" | ")
        fields = data.split()
        try:
            offset, lexfile = fields[0], int(fields[1])
            w_cnt = int(fields[3], 16)
            words = [fields[4 + 2 * i] for i in range(w_cnt)]
            pos = 4 + 2 * w_cnt
            p_cnt = int(fields[pos])
            hypernyms = []
            for i in range(p_cnt):
                symbol, target = fields[pos + 1 + 4 * i], fields[pos + 2 + 4 * i]
                if symbol in ("@", "@i"):
                    hypernyms.append(target)
        except (IndexError, ValueError):
            continue
        out[offset] = Synset(offset, lexfile, words, hypernyms, gloss.strip())
    return out


def medical_synsets(synsets: dict[str, Synset]) -> list[Synset]:
    roots = {
        s.offset for s in synsets.values() if any((w.lower(), s.lexfile) in ROOTS for w in s.words)
    }
    memo: dict[str, bool] = {}

    def medical(offset: str, depth: int = 0) -> bool:
        if offset in roots:
            return True
        if offset in memo:
            return memo[offset]
        memo[offset] = False  # cycle guard
        syn = synsets.get(offset)
        result = bool(syn) and depth < 30 and any(medical(h, depth + 1) for h in syn.hypernyms)  # type: ignore[union-attr]
        memo[offset] = result
        return result

    return [s for s in synsets.values() if medical(s.offset)]


def _pretty(word: str) -> str:
    word = word.split("(")[0]  # adjective markers like "(a)"
    return word.replace("_", " ")


def find_data_noun() -> Path | None:
    env = os.environ.get(ENV_PATH)
    candidates = ([Path(env)] if env else []) + list(CANDIDATE_PATHS)
    return next((p for p in candidates if p.is_file()), None)


class WordNetSource:
    name = "wordnet"
    licence = LICENCE

    def __init__(self, path: Path | None = None) -> None:
        found = path or find_data_noun()
        if found is None:
            raise SourceUnavailableError(
                f"WordNet is not installed (no /usr/share/wordnet/data.noun): "
                f"`apt-get install {APT_PACKAGE}` to add its medical definitions"
            )
        self.path = found

    def version(self) -> str:
        return VERSION

    def fingerprint(self) -> str:
        return file_sha256(self.path, extra="wordnet-v1")

    def chunks(self) -> Iterator[Chunk]:
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            synsets = parse_data_noun(fh)
        for syn in medical_synsets(synsets):
            names = list(dict.fromkeys(_pretty(w) for w in syn.words))
            parents = [_pretty(synsets[h].words[0]) for h in syn.hypernyms if h in synsets]
            text = f"{names[0]}: {syn.gloss}"
            if len(names) > 1:
                text += " Also called: " + "; ".join(names[1:]) + "."
            if parents:
                text += " A type of: " + "; ".join(parents) + "."
            yield Chunk(
                id=f"wordnet:{syn.offset}-n",
                text=text,
                title=names[0],
                source="wordnet",
                type="definition",
                identifier=f"{syn.offset}-n",
                url=f"wordnet:3.0:{syn.offset}-n",
                licence=LICENCE,
                version=VERSION,
            )
