from __future__ import annotations

import pytest

from assistant.bench import SUITES
from assistant.evaluation import AREAS
from assistant.plugins import load_entry


@pytest.mark.parametrize("target", sorted({*AREAS.values(), *SUITES.values()}))
def test_every_eval_area_and_bench_suite_resolves(target: str) -> None:
    assert callable(load_entry(target))
