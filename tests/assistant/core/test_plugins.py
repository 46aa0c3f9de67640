from __future__ import annotations

import pytest

from assistant.bench.runner import SUITES
from assistant.core.plugins import load_entry
from assistant.evals.runner import AREAS


@pytest.mark.parametrize("target", sorted({*AREAS.values(), *SUITES.values()}))
def test_every_eval_area_and_bench_suite_resolves(target: str) -> None:
    assert callable(load_entry(target))
