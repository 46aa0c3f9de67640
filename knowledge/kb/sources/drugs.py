"""Drug names from ``drug-named-entity-recognition`` (MIT): 20k drugs, their name variants and
MeSH / MedlinePlus / DrugBank ids. No descriptions ship, so this is used for query expansion
(brand -> generic) and, on request (`kb ingest drugs`), as short name passages."""

from __future__ import annotations

import bz2
import pickle
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.kb.sources import Chunk, SourceUnavailableError, file_sha256

LICENCE = "MIT (drug-named-entity-recognition, Fast Data Science); names from MeSH/DrugBank"
VERSION = "2.0.9"


def dictionary_path() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def load_dictionary() -> dict[str, Any]:
    """The package's own pickle (read directly: importing the package reads files in $HOME)."""
    path = dictionary_path()
    if path is None:
        raise SourceUnavailableError(
            "drug names need drug-named-entity-recognition==2.0.9 (pip install --no-deps)"
        )
    with bz2.open(path, "rb") as fh:
        return pickle.load(fh)


def variants_by_canonical() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for variant, canonicals in load_dictionary()["drug_variant_to_canonical"].items():
        for canonical in canonicals:
            out.setdefault(canonical, []).append(variant)
    return out


class DrugSource:
    name = "drugs"
    licence = LICENCE

    def __init__(self) -> None:
        path = dictionary_path()
        if path is None:
            raise SourceUnavailableError(
                "drug names need drug-named-entity-recognition==2.0.9 (pip install --no-deps)"
            )
        self.path = path

    def version(self) -> str:
        return VERSION

    def fingerprint(self) -> str:
        return file_sha256(self.path, extra="drugs-v1")

    def chunks(self) -> Iterator[Chunk]:
        data = load_dictionary()["drug_canonical_to_data"]
        variants = variants_by_canonical()
        for canonical, info in data.items():
            name = info.get("name") or canonical
            others = [v for v in variants.get(canonical, []) if v != canonical][:15]
            ids = [
                f"{k}: {info[k]}"
                for k in ("mesh_id", "drugbank_id", "medline_plus_id")
                if info.get(k)
            ]
            text = f"{name} (drug)."
            if others:
                text += " Other names: " + "; ".join(others) + "."
            if ids:
                text += " Identifiers: " + ", ".join(ids) + "."
            ident = info.get("drugbank_id") or info.get("mesh_id") or canonical
            yield Chunk(
                id=f"drugs:{canonical}",
                text=text,
                title=name,
                source="drugs",
                type="drug",
                identifier=str(ident),
                url=f"https://medlineplus.gov/druginfo/meds/{info['medline_plus_id']}.html"
                if info.get("medline_plus_id")
                else "",
                licence=LICENCE,
                version=VERSION,
            )
