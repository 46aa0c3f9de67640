"""Three-valued rule logic (``truth.py``): and/or follow Kleene's strong logic."""

from __future__ import annotations

import itertools

from tools.triage.truth import Truth, _and, _or

VALUES: tuple[Truth, ...] = (True, False, None)


def test_and_or_follow_kleene_on_every_combination() -> None:
    for n in range(4):
        for combo in itertools.product(VALUES, repeat=n):
            vs = list(combo)
            want_and = False if False in vs else (True if all(v is True for v in vs) else None)
            want_or = True if True in vs else (False if all(v is False for v in vs) else None)
            assert _and(vs) is want_and, vs
            assert _or(vs) is want_or, vs
