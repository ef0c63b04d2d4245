from pathlib import Path

import pytest
from pydantic import ValidationError

from winback.config import Settings, get_settings


def test_defaults_put_everything_in_the_data_dir() -> None:
    settings = Settings()
    assert settings.data_dir == Path(".winback")
    assert settings.database_url == "sqlite:///.winback/winback.db"
    assert settings.chroma == ".winback/chroma"
    assert settings.llm_base_url is None and not settings.chroma_is_server


def test_environment_overrides_toml_which_overrides_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "winback.toml"
    toml.write_text('data_dir = "/srv/wb"\nllm_model = "from-toml"\nchroma = "http://127.0.0.1:8000"\n')
    monkeypatch.setenv("WINBACK_CONFIG_FILE", str(toml))
    monkeypatch.setenv("WINBACK_LLM_MODEL", "from-env")
    settings = Settings()
    assert settings.data_dir == Path("/srv/wb")
    assert settings.database_url == "sqlite:////srv/wb/winback.db"
    assert settings.llm_model == "from-env"
    assert settings.chroma_is_server


def test_masked_hides_passwords_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINBACK_DATABASE_URL", "postgresql+psycopg://app:s3cret@db.example:5432/shop")
    monkeypatch.setenv("WINBACK_LLM_API_KEY", "sk-live-123")
    monkeypatch.setenv("WINBACK_LLM_BASE_URL", "http://127.0.0.1:8001/v1")
    masked = Settings().masked()
    assert "s3cret" not in str(masked) and "sk-live-123" not in str(masked)
    assert masked["database_url"] == "postgresql+psycopg://app:***@db.example:5432/shop"
    assert masked["llm_api_key"] == "********"
    assert masked["llm_base_url"] == "http://127.0.0.1:8001/v1"


def test_bad_values_are_refused_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINBACK_LOG_LEVEL", "LOUD")
    with pytest.raises(ValidationError, match="log_level"):
        Settings()
    monkeypatch.delenv("WINBACK_LOG_LEVEL")
    monkeypatch.setenv("WINBACK_DATABASE_URL", "not a url")
    with pytest.raises(ValidationError, match="database_url"):
        Settings()


def test_get_settings_is_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINBACK_LLM_MODEL", "a")
    assert get_settings().llm_model == "a"
    monkeypatch.setenv("WINBACK_LLM_MODEL", "b")
    assert get_settings().llm_model == "a"
    get_settings.cache_clear()
    assert get_settings().llm_model == "b"


def test_the_readme_settings_table_is_the_generated_one() -> None:
    from pathlib import Path

    from winback.config import settings_reference

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("<!-- settings:")
    body = readme[readme.index("\n", start) + 1 : readme.index("<!-- /settings -->")]
    assert body.strip() == settings_reference(), "README settings table is stale: paste `winback config --reference`"


def test_settings_named_in_the_docs_exist_with_the_stated_defaults() -> None:
    """A doc that names WINBACK_X names a real setting; 'WINBACK_X` (default N)' states the code's default."""
    import re
    from pathlib import Path

    from winback.config import Settings

    root = Path(__file__).resolve().parents[1]
    # variables of the scripts and the test/bench harness, not settings of the app
    harness = {
        *("TEST_POSTGRES_URL", "TEST_WORKERS", "TEST_SHOP_CACHE", "TEST_LLM_CACHE"),
        *("BENCH_POSTGRES_URL", "PYTHON", "CONFIG_FILE", "PORT"),
    }
    problems = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text()
        for name in set(re.findall(r"WINBACK_([A-Z_]+[A-Z])", text)):
            if name not in harness and not name.startswith("DEMO_") and name.lower() not in Settings.model_fields:
                problems.append(f"{doc.name}: WINBACK_{name} is not a setting")
        for name, stated in re.findall(r"WINBACK_([A-Z_]+)`? \(default ([^)]+)\)", text):
            default = Settings.model_fields[name.lower()].default
            if stated.strip("`") != str(default):
                problems.append(f"{doc.name}: WINBACK_{name} default {stated} but the code says {default}")
    assert problems == []
