from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.config import load_settings
from assistant.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_repo_config_is_valid() -> None:
    settings = load_settings(Path(__file__).parents[3] / "config.yaml", environ={})
    assert settings.llm.backend == "llamacpp"
    assert settings.data_dir.is_absolute()


def test_unknown_key_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "llm:\n  bakend: openai\n"), environ={})
    msg = str(err.value)
    assert "llm.bakend" in msg and "backend" in msg and "base_url" in msg


def test_unknown_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'colour'.*data_dir"):
        load_settings(write(tmp_path, "colour: blue\n"), environ={})


def test_invalid_value_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "llm:\n  backend: gpt5\n"), environ={})
    assert "\n" not in str(err.value) and "llm.backend" in str(err.value)


def test_unreadable_and_malformed_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml", environ={})
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "llm: [unclosed\n"), environ={})
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(write(tmp_path, "- a\n- b\n"), environ={})


def test_secrets_are_refused_in_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment"):
        load_settings(write(tmp_path, "slack:\n  bot_token: xoxb-123\n"), environ={})


def test_env_overrides_file_and_is_typed(tmp_path: Path) -> None:
    path = write(tmp_path, "llm:\n  backend: llamacpp\n  max_tokens: 100\n")
    settings = load_settings(
        path,
        environ={
            "CLINASSIST_LLM__BACKEND": "openai",
            "CLINASSIST_LLM__MAX_TOKENS": "64",
            "CLINASSIST_SLACK__ALLOWED_CHANNELS": "[C1, C2]",
        },
    )
    assert settings.llm.backend == "openai"
    assert settings.llm.max_tokens == 64
    assert settings.slack.allowed_channels == ["C1", "C2"]


def test_env_unknown_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'llm\.nope'"):
        load_settings(None, environ={"CLINASSIST_LLM__NOPE": "1"})


def test_env_error_names_the_variable_not_the_config_file(tmp_path: Path) -> None:
    """A bad nested environment variable is blamed on itself, not on the config file beside it."""
    config = write(tmp_path, "data_dir: state\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"CLINASSIST_KB__PATH": "/tmp/kb"})
    assert str(caught.value).startswith("environment variable CLINASSIST_KB__PATH: unknown key")
    assert str(config) not in str(caught.value)
    with pytest.raises(ConfigError, match=r"^environment variable CLINASSIST_LLM__MAX_TOKENS"):
        load_settings(config, environ={"CLINASSIST_LLM__MAX_TOKENS": "many"})
    with pytest.raises(ConfigError, match=r"^.*config\.yaml: unknown key 'colour'"):
        load_settings(write(tmp_path, "colour: red\n"), environ={"CLINASSIST_LLM__MAX_TOKENS": "9"})


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "data_dir: state\n"), environ={})
    assert settings.data_dir == (tmp_path / "state").resolve()
    assert str(settings.store_url).endswith("state/cases.sqlite")


def test_secret_reads_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(None, environ={})
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert settings.secret("slack_bot_token") is None
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    token = settings.secret("slack_bot_token")
    assert token is not None and token.get_secret_value() == "xoxb-test"
    assert "xoxb" not in repr(token)


def test_environment_unknown_top_level_key_and_null() -> None:
    with pytest.raises(ConfigError, match="CLINASSIST_DATADIR: unknown key 'datadir'"):
        load_settings(None, environ={"CLINASSIST_DATADIR": "/tmp/x"})
    settings = load_settings(
        None, environ={"CLINASSIST_LLM__BASE_URL": "null", "CLINASSIST_LLM_API_KEY": "sk-x"}
    )
    assert settings.llm.base_url is None
