"""Configuration: ``config.yaml`` validated by pydantic, every value overridable by environment.

Unknown keys are errors that name the valid ones. Secrets (tokens, API keys, database
passwords) are never read from the file: only from environment variables.

Precedence (highest first): keyword overrides, ``CLINASSIST_*`` environment variables
(nested with ``__``, e.g. ``CLINASSIST_LLM__BACKEND=openai``; read by pydantic-settings'
environment source, values as YAML), the YAML file, defaults.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from assistant.core.errors import ConfigError

ENV_PREFIX = "CLINASSIST_"
SECRET_ENV = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "llm_api_key": "CLINASSIST_LLM_API_KEY",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StoreSettings(_Section):
    """Where case state and the audit log live."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. None: SQLite file under data_dir. "
        "postgresql+psycopg://user@host/db for multi-instance deployments "
        "(the password comes from PGPASSWORD).",
    )
    busy_timeout_s: float = 30.0


class LLMSettings(_Section):
    backend: Literal["llamacpp", "openai", "scripted"] = "llamacpp"
    model: str = Field(
        default="qwen2.5-coder-0.5b-instruct-q4_0",
        description="A model id from `clinassist models list`, or a path to any GGUF file.",
    )
    base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1. Every question, "
        "the retrieved passages and (clinician mode) the case's findings and image results "
        "are sent to it. https, or plain http on this machine (loopback) only.",
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Allow plain http to a base_url that is not on this machine (questions, "
        "case facts and the API key then cross the network unencrypted).",
    )
    ca_file: Path | None = Field(
        default=None,
        description="CA bundle (PEM) to verify the server's certificate, e.g. a hospital CA. "
        "Environment variables (SSL_CERT_FILE, proxies) are not used for this server.",
    )
    api_model: str | None = Field(default=None, description="Model name sent to the server.")
    n_ctx: int = Field(default=4096, ge=512)
    n_threads: int = Field(default=2, ge=1)
    max_tokens: int = Field(default=256, ge=1, le=4096)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    timeout_s: float = Field(default=120.0, gt=0)
    seed: int = 0
    draft_tokens: int = Field(
        default=3,
        ge=0,
        le=16,
        description="llamacpp: prompt-lookup speculative decoding; up to this many tokens that "
        "followed the last two generated tokens elsewhere in the prompt (e.g. in the evidence "
        "being quoted) are checked in one batch. 0 turns it off. The output is unchanged.",
    )

    @model_validator(mode="after")
    def _check_base_url(self) -> LLMSettings:
        if self.base_url:
            check_llm_url(self.base_url, allow_insecure_http=self.allow_insecure_http)
        return self


def check_llm_url(url: str, *, allow_insecure_http: bool) -> None:
    """An LLM server URL: http(s) with a host; plain http only to a loopback host unless
    ``allow_insecure_http``. Raises ValueError with the fix."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"llm.base_url {url!r} must be an http(s) URL with a host")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ValueError(
            f"llm.base_url {url!r} is plain http to another machine: questions, case facts "
            "and the API key would cross the network unencrypted. Use https, or set "
            "llm.allow_insecure_http: true if that network is trusted"
        )


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1 (by name or address; no DNS lookup)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ModelSettings(_Section):
    cache_dir: Path = Path("~/.cache/clinassist/models")


class EmbeddingSettings(_Section):
    backend: Literal["minilm", "hashing"] = Field(
        default="minilm",
        description="minilm: the packaged all-MiniLM-L6-v2; hashing: a dependency-free "
        "bag-of-n-grams embedder (tests, tiny deployments).",
    )
    dim: int = Field(default=384, ge=16)
    runtime: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="onnx: MiniLM exported to ONNX (once, by `models fetch` or on first use) "
        "and run with onnxruntime, no torch import (same vectors as torch to 1e-6); torch: "
        "sentence-transformers.",
    )


class RouterSettings(_Section):
    min_intent_score: float = Field(default=0.35, ge=0.0, le=1.0)
    report_min_chars: int = Field(default=60, ge=1)


class LimitSettings(_Section):
    max_message_chars: int = Field(default=20_000, ge=1)
    max_attachment_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_attachments_per_turn: int = Field(default=8, ge=1)
    history_turns_in_prompt: int = Field(default=4, ge=0)


class KBSettings(_Section):
    """The knowledge base (see docs/KNOWLEDGE.md)."""

    chroma_url: str | None = Field(
        default=None,
        description="None: Chroma files under data_dir/kb. http://host:8000 for a Chroma server.",
    )
    abstain_similarity: float = Field(
        default=0.40, ge=0.0, le=1.0, description="below this best dense similarity: abstain"
    )
    build_in_background: bool = Field(
        default=True,
        description="`clinassist chat` opens at once and builds a missing or outdated default "
        "corpus in a background process (progress: /status); false: chat never builds it "
        "(run `clinassist kb ingest` yourself, or use a Chroma server).",
    )


class SlackSettings(_Section):
    allowed_teams: list[str] = Field(default_factory=list, description="Empty: any team.")
    allowed_channels: list[str] = Field(default_factory=list, description="Empty: any channel.")
    allowed_users: list[str] = Field(default_factory=list, description="Empty: any user.")
    channel_modes: dict[str, Literal["clinician", "patient"]] = Field(default_factory=dict)
    default_mode: Literal["clinician", "patient"] = "clinician"
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    admins: list[str] = Field(
        default_factory=list,
        description="Slack user ids (U…/W…) who may switch a channel that channel_modes pins, "
        "or that is in patient mode, to clinician mode from Slack. Empty: nobody.",
    )
    api_url: str | None = Field(
        default=None,
        description="Slack Web API base URL. None: https://slack.com/api/. GovSlack: "
        "https://slack-gov.com/api/. http:// only for a loopback host (tests, local mocks).",
    )
    file_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts (host or host:port) files may be downloaded from besides "
        "files.slack.com (e.g. files.slack-gov.com). https only, except a loopback host.",
    )
    stream: bool = Field(
        default=True,
        description="Show a model-written answer as it is generated (post, then update), "
        "then replace it with the final message.",
    )
    stream_interval_s: float = Field(
        default=1.0, ge=0.0, description="At most one chat.update per this many seconds."
    )
    dedupe_ttl_s: float = Field(
        default=3600.0,
        gt=0,
        description="How long delivered events are remembered in the store (Slack retries "
        "within minutes).",
    )
    lease_s: float = Field(
        default=30.0,
        gt=0,
        description="An event claimed by an instance that has not shown a sign of life for "
        "this long may be taken over by another instance's retry.",
    )
    http_header_timeout_s: float = Field(default=10.0, gt=0)
    http_body_timeout_s: float = Field(default=10.0, gt=0)
    http_max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _check_slack(self) -> SlackSettings:
        from assistant.core.slack_hosts import check_file_host, check_http_url

        for user in self.admins:
            if not re.fullmatch(r"[UW][A-Z0-9]{2,30}", user):
                raise ValueError(f"admins: {user!r} is not a Slack user id (U… or W…)")
        if self.api_url is not None:
            check_http_url(self.api_url, what="api_url")
        for host in self.file_hosts:
            check_file_host(host)
        return self


class ReplSettings(_Section):
    """The terminal REPL."""

    history: Literal["off", "redacted"] = Field(
        default="off",
        description="off: line history only while the REPL runs (nothing written to disk); "
        "redacted: kept in data_dir/repl_history with PHI replaced by [KIND] placeholders.",
    )


class ImagingSettings(_Section):
    """Image models (see docs/IMAGING.md)."""

    cxr_model: str | None = Field(
        default=None,
        description="Chest X-ray model, a registry key such as cxr-pneumonia.v1 (`clinassist "
        "models list` shows the fetched ones). None: the registry default.",
    )


class Settings(_Section):
    """The whole configuration. Relative paths resolve against the config file's folder."""

    data_dir: Path = Path("var")
    default_mode: Literal["clinician", "patient"] = "clinician"
    store: StoreSettings = Field(default_factory=StoreSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    router: RouterSettings = Field(default_factory=RouterSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    kb: KBSettings = Field(default_factory=KBSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    imaging: ImagingSettings = Field(default_factory=ImagingSettings)
    repl: ReplSettings = Field(default_factory=ReplSettings)

    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        base = self.base_dir
        object.__setattr__(self, "data_dir", _resolve(self.data_dir, base))
        object.__setattr__(self.models, "cache_dir", _resolve(self.models.cache_dir, base))
        if self.llm.ca_file is not None:
            object.__setattr__(self.llm, "ca_file", _resolve(self.llm.ca_file, base))
        return self

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.data_dir / 'cases.sqlite'}"

    def secret(self, name: str) -> SecretStr | None:
        """A secret from the environment only (names in ``SECRET_ENV``)."""
        value = os.environ.get(SECRET_ENV[name])
        return SecretStr(value) if value else None


def _resolve(path: Path, base: Path) -> Path:
    path = Path(os.path.expanduser(str(path)))
    return path if path.is_absolute() else (base / path).resolve()


class _Environment(EnvSettingsSource):
    """``CLINASSIST_LLM__BACKEND=openai`` -> ``{"llm": {"backend": "openai"}}``: pydantic-settings'
    nested environment source over the given mapping, with lists and mappings read as YAML
    (``CLINASSIST_SLACK__ALLOWED_CHANNELS="[C1, C2]"``). Secrets are not settings."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._given = {
            key: value
            for key, value in environ.items()
            if key.startswith(ENV_PREFIX)
            and key not in SECRET_ENV.values()
            and key != "CLINASSIST_CONFIG"
        }
        for key in self._given:
            top = key[len(ENV_PREFIX) :].split("__")[0].lower()
            if top not in Settings.model_fields or top == "base_dir":
                valid = ", ".join(k.upper() for k in Settings.model_fields if k != "base_dir")
                raise ConfigError(
                    f"environment variable {key}: unknown key '{top}'. Valid keys here: {valid}."
                )
        super().__init__(
            Settings,  # type: ignore[arg-type]  # a plain model: only its fields are read
            case_sensitive=False,
            env_prefix=ENV_PREFIX,
            env_nested_delimiter="__",
            env_parse_none_str="null",
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, False, False, self.env_parse_none_str)

    def decode_complex_value(self, field_name: str, field: Any, value: Any) -> Any:
        try:
            return yaml.safe_load(value) if isinstance(value, str) else value
        except yaml.YAMLError as exc:
            raise ConfigError(f"environment value for '{field_name}' is not valid YAML") from exc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_SECRET_KEY = re.compile(r"(^|_)(token|secret|password|passwd|api_?key)$")


def _secret_keys_in(data: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if _SECRET_KEY.search(str(key).lower()):
                found.append(here)
            found.extend(_secret_keys_in(value, here))
    return found


def _from_environment(loc: tuple[Any, ...], env_data: Mapping[str, Any]) -> str | None:
    """The environment variable that set ``loc``, when the environment (not the file) did."""
    node: Any = env_data
    for part in loc:
        if not isinstance(node, Mapping) or str(part) not in node:
            return None
        node = node[str(part)]
    return ENV_PREFIX + "__".join(str(p) for p in loc).upper()


def _explain(error: ValidationError, source: str, env_data: Mapping[str, Any]) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    variable = _from_environment(tuple(first["loc"]), env_data)
    if variable is not None:
        source = f"environment variable {variable}"
    if first["type"] == "extra_forbidden":
        model: type[BaseModel] = Settings
        for part in first["loc"][:-1]:
            field = model.model_fields.get(str(part))
            ann = field.annotation if field else None
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model = ann
        valid = ", ".join(k for k in model.model_fields if k != "base_dir")
        return f"{source}: unknown key '{loc}'. Valid keys here: {valid}."
    return f"{source}: '{loc}': {first['msg']}."


def default_config_path() -> Path | None:
    env = os.environ.get("CLINASSIST_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / "config.yaml"
    return local if local.is_file() else None


def load_settings(
    path: str | Path | None = None,
    *,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Load and validate settings. Raises :class:`ConfigError` with one readable line."""
    environ = dict(os.environ) if environ is None else environ
    cfg_path = Path(path) if path is not None else default_config_path()
    data: dict[str, Any] = {}
    source = "defaults"
    base_dir = Path.cwd()
    if cfg_path is not None:
        source = str(cfg_path)
        try:
            text = cfg_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {cfg_path}: {exc.strerror or exc}") from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(f"{cfg_path} is not valid YAML{where}: fix or remove it") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{cfg_path} must hold a mapping of settings at the top level")
        secrets = _secret_keys_in(loaded)
        if secrets:
            raise ConfigError(
                f"{cfg_path}: '{secrets[0]}' looks like a secret; secrets are read only from "
                "environment variables (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, "
                "CLINASSIST_LLM_API_KEY, PGPASSWORD)"
            )
        data = loaded
        base_dir = cfg_path.resolve().parent
    env_data = _Environment(environ)()
    data = _merge(data, env_data)
    data = _merge(data, overrides)
    if "base_dir" in data:
        raise ConfigError(f"{source}: unknown key 'base_dir'")
    try:
        return Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, env_data)) from exc
