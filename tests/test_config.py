"""Settings: defaults, then the TOML file, then MODERATION_* variables, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.config import ENV_PREFIX, Settings, load_settings, setting_docs
from moderation.errors import ConfigError


def _toml(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "moderation.toml"
    path.write_text(text, encoding="utf-8")
    return {"MODERATION_CONFIG": str(path)}


def test_defaults():
    s = load_settings(environ={})
    assert s == Settings()
    assert s.home == Path(".")
    assert s.models_path == Path("models")
    assert s.database_url is None
    assert s.database == f"sqlite:///{(Path('.') / 'moderation.db').resolve()}"
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.target_fpr == 0.005
    assert s.allow_discard is True
    assert s.threshold_overrides() == {
        "hold": None,
        "spam": None,
        "discard": None,
        "low_value": None,
    }


def test_settings_are_read_from_the_given_environment_only(monkeypatch):
    monkeypatch.setenv("MODERATION_PORT", "9999")
    assert load_settings(environ={}).port == 8000
    assert load_settings().port == 9999


def test_home_sets_the_models_dir_and_database(tmp_path):
    s = load_settings(environ={"MODERATION_HOME": str(tmp_path)})
    assert s.home == tmp_path
    assert s.models_path == tmp_path / "models"
    assert s.database == f"sqlite:///{tmp_path.resolve() / 'moderation.db'}"


def test_toml_file_sets_values(tmp_path):
    env = _toml(
        tmp_path,
        'port = 9000\nhost = "0.0.0.0"\nallow_discard = false\ntarget_fpr = 0.01\n'
        "spam_threshold = 0.8\n",
    )
    s = load_settings(environ=env)
    assert (s.port, s.host, s.allow_discard, s.target_fpr) == (
        9000,
        "0.0.0.0",
        False,
        0.01,
    )
    assert s.spam_threshold == 0.8


def test_environment_overrides_the_toml_file(tmp_path):
    env = _toml(tmp_path, 'port = 9000\nworkers = 3\nhost = "0.0.0.0"\n')
    env.update({"MODERATION_PORT": "9100", "MODERATION_WORKERS": "5"})
    s = load_settings(environ=env)
    assert (s.port, s.workers, s.host) == (9100, 5, "0.0.0.0")


def test_keyword_overrides_win_over_everything(tmp_path):
    env = _toml(tmp_path, "port = 9000\n")
    env["MODERATION_PORT"] = "9100"
    assert load_settings(environ=env, port=9200).port == 9200
    assert load_settings(environ=env, port=None).port == 9100


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_boolean_words_in_the_environment(raw, expected):
    assert (
        load_settings(environ={"MODERATION_ALLOW_DISCARD": raw}).allow_discard
        is expected
    )


def test_empty_threshold_variable_means_no_override():
    s = load_settings(environ={"MODERATION_SPAM_THRESHOLD": ""})
    assert s.spam_threshold is None


def test_unknown_environment_variables_are_ignored():
    assert (
        load_settings(environ={"MODERATION_COLOUR": "blue", "OTHER": "x"}) == Settings()
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PORT", "eighty"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("PORT", "1e3"),
        ("WORKERS", "0"),
        ("WORKERS", "2.5"),
        ("ALLOW_DISCARD", "maybe"),
        ("TARGET_FPR", "0.7"),
        ("TARGET_FPR", "0"),
        ("TARGET_FPR", "nan"),
        ("TARGET_FPR", "lots"),
        ("SPAM_THRESHOLD", "1.5"),
        ("SPAM_THRESHOLD", "-0.1"),
        ("SPAM_THRESHOLD", "high"),
        ("LOW_VALUE_THRESHOLD", "nan"),
        ("MAX_BATCH", "-1"),
    ],
)
def test_bad_values_name_the_variable_and_the_value(name, raw):
    with pytest.raises(ConfigError) as info:
        load_settings(environ={ENV_PREFIX + name: raw})
    message = str(info.value)
    assert message.startswith(f"MODERATION_{name} = ")
    assert raw in message
    assert "is not valid" in message


@pytest.mark.parametrize(
    ("toml", "name", "shown"),
    [
        ("port = 80.5\n", "PORT", "80.5"),
        ("port = true\n", "PORT", "True"),
        ('allow_discard = "perhaps"\n', "ALLOW_DISCARD", "'perhaps'"),
        ("target_fpr = 2\n", "TARGET_FPR", "2"),
    ],
)
def test_bad_values_in_the_toml_file_name_the_setting_and_value(
    tmp_path, toml, name, shown
):
    with pytest.raises(ConfigError) as info:
        load_settings(environ=_toml(tmp_path, toml))
    assert str(info.value).startswith(f"MODERATION_{name} = {shown}")


def test_unknown_toml_key_is_refused_naming_it(tmp_path):
    env = _toml(tmp_path, "port = 9000\ncolour = 1\n")
    with pytest.raises(
        ConfigError, match=r"unknown setting 'colour'; known settings: .*port"
    ):
        load_settings(environ=env)


def test_invalid_toml_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a valid TOML file"):
        load_settings(environ=_toml(tmp_path, "port = \n"))


def test_missing_config_file_is_refused(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="MODERATION_CONFIG names .*nope.toml"):
        load_settings(environ={"MODERATION_CONFIG": str(missing)})


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://mod:s3cret@db.example.com:5432/moderation",
            "postgresql+psycopg://***@db.example.com:5432/moderation",
        ),
        ("postgresql://mod:p@ss:w0rd@db/x", "postgresql://***@db/x"),
    ],
)
def test_describe_hides_the_database_password(url, shown):
    s = load_settings(environ={"MODERATION_DATABASE_URL": url})
    assert s.database == url
    described = s.describe()
    assert described["database_url"] == shown
    assert "s3cret" not in str(described) and "w0rd" not in str(described)


def test_describe_shows_every_setting_as_text():
    described = load_settings(environ={}).describe()
    assert set(described) == {
        doc[0][len(ENV_PREFIX) :].lower() for doc in setting_docs()
    }
    assert all(isinstance(v, str) for v in described.values())
    assert described["database_url"] == "None"


def test_every_setting_has_a_default_and_help():
    for env_name, _default, help_text in setting_docs():
        assert env_name.startswith(ENV_PREFIX) and env_name.isupper()
        assert help_text.strip()


def test_password_in_a_url_query_is_hidden_and_repr_leaves_the_url_out():
    """A password passed as ?password= is masked too; repr(Settings) never shows it."""
    settings = load_settings(
        environ={"MODERATION_DATABASE_URL": "postgresql+psycopg://db/x?password=s3cret"}
    )
    assert "s3cret" not in settings.describe()["database_url"]
    assert "s3cret" not in repr(settings)
