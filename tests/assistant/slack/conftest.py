"""Fixtures for the Slack app: a mock Web API on loopback, a harness, clean fake-tool state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core.config import Settings, load_settings
from assistant.slack.mock import MockSlackAPI
from tests.assistant.slack.slack_helpers import LOG, TEAM, Harness


@pytest.fixture
def mock() -> Iterator[MockSlackAPI]:
    with MockSlackAPI(team=TEAM) as m:
        yield m


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**slack: Any) -> Settings:
        return load_settings(None, environ={}, data_dir=tmp_path, slack=slack)

    return make


@pytest.fixture
def harness(
    mock: MockSlackAPI, make_settings: Callable[..., Settings]
) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []
    LOG.calls.clear()
    LOG.gate.set()
    LOG.entered.clear()

    def make(slack: dict[str, Any] | None = None, **options: Any) -> Harness:
        # the mock serves files on loopback: the one extra file host the tests configure
        slack = {"file_hosts": [mock.url.split("//", 1)[1]], **(slack or {})}
        h = Harness(mock, make_settings(**slack), **options)
        made.append(h)
        return h

    yield make
    LOG.gate.set()
    for h in made:
        h.close()
