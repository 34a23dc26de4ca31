"""Settings: defaults, then an optional TOML file, then ``MODERATION_*`` variables.

One ``Settings`` dataclass holds every setting, each with a default and a one-line help
(README.md lists them all; a test keeps the two in step). ``load_settings`` is the only
code in the project that reads ``os.environ``. Values are validated once, at load, with
messages that name the setting, the value found and the fix. Secrets are never echoed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from moderation.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ENV_PREFIX", "Settings", "load_settings", "setting_docs"]

ENV_PREFIX = "MODERATION_"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _opt(default: Any, help: str, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help}, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """Every setting of the library, the CLI and the service."""

    home: Path = _opt(
        Path("."), "Directory holding models/ and the default SQLite store."
    )
    models_dir: Path | None = _opt(
        None, "Where model versions live (default: HOME/models)."
    )
    training_data: Path = _opt(
        _PACKAGE_ROOT / "training_data",
        "Corpus the default model is trained on "
        "(default: the project's training_data/).",
    )
    database_url: str | None = _opt(
        None,
        "SQLAlchemy URL of the store (default: sqlite file HOME/moderation.db).",
        secret=True,
    )
    target_fpr: float = _opt(
        0.005,
        "Share of genuine comments the spam threshold may flag, at training time.",
    )
    hold_threshold: float | None = _opt(
        None, "Override: spam score from which a comment is held."
    )
    spam_threshold: float | None = _opt(
        None, "Override: spam score from which a comment is spam."
    )
    discard_threshold: float | None = _opt(
        None, "Override: spam score from which spam is discarded."
    )
    low_value_threshold: float | None = _opt(
        None, "Override: low-value score from which a comment is held."
    )
    allow_discard: bool = _opt(True, "Whether the discard verdict is used (else spam).")
    seed: int = _opt(0, "Seed for cross-validation folds and solvers.")
    host: str = _opt("127.0.0.1", "Address the service listens on.")
    port: int = _opt(8000, "Port the service listens on.")
    workers: int = _opt(2, "gunicorn worker processes.")
    threads: int = _opt(4, "Threads per gunicorn worker.")
    timeout: int = _opt(30, "Seconds before gunicorn restarts a stuck worker.")
    max_body_bytes: int = _opt(1_048_576, "Largest request body accepted (413 beyond).")
    max_batch: int = _opt(1000, "Most comments in one batch request (422 beyond).")
    retain_content: bool = _opt(
        False, "Store the text of scored comments with each check."
    )
    retention_days: int = _opt(30, "Days a retained comment text is kept.")
    log_content: bool = _opt(False, "Include comment text in request logs.")
    rate_limit: int = _opt(
        0, "Requests per minute per API key in each worker process (0: no limit; 429)."
    )
    shadow_model: str | None = _opt(
        None,
        "A candidate model version that scores every live request too (shadow mode).",
    )
    shadow_max_rows: int = _opt(
        100_000, "Most shadow verdicts kept in the store (the oldest go first)."
    )
    reload_seconds: float = _opt(
        2.0, "How often each worker looks for a newly promoted model (0: never)."
    )
    check_flush_ms: int = _opt(
        50,
        "Milliseconds scored checks wait to be stored in batches "
        "(0: before answering).",
    )
    history_window_seconds: int = _opt(
        3600,
        "Seconds of recent comments kept to spot copy campaigns and bursts (0: off).",
    )
    forwarded_hops: int = _opt(
        0,
        "Reverse proxies in front of the service whose X-Forwarded-* headers to trust.",
    )
    metrics_dir: Path | None = _opt(
        None,
        "Directory for multi-process Prometheus metrics "
        "('moderation serve' makes one).",
    )

    @property
    def models_path(self) -> Path:
        return self.models_dir if self.models_dir is not None else self.home / "models"

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'moderation.db').resolve()}"

    def threshold_overrides(self) -> dict[str, float | None]:
        return {
            "hold": self.hold_threshold,
            "spam": self.spam_threshold,
            "discard": self.discard_threshold,
            "low_value": self.low_value_threshold,
        }

    def describe(self) -> dict[str, str]:
        """Every setting as text for display; the database URL's password is hidden."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url" and value:
                value = _hide_password(value)
            out[f.name] = str(value)
        return out


def _hide_password(url: str) -> str:
    # user:password@host and ?password=... both become ***.
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    rest = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", rest)
    return scheme + sep + rest


def setting_docs() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for documentation."""
    return [
        (ENV_PREFIX + f.name.upper(), str(f.default), f.metadata["help"])
        for f in fields(Settings)
    ]


def load_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Build validated settings.

    Args:
        environ: the environment to read (default ``os.environ``).
        **overrides: values that win over everything (command-line options).

    Returns:
        The ``Settings``.

    Raises:
        ConfigError: an unknown key in the TOML file, or a value of the wrong type or
            range; the message names the setting and the value.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_path = env.get(ENV_PREFIX + "CONFIG")
    if config_path:
        values.update(_read_toml(Path(config_path)))
    known = {f.name for f in fields(Settings)}
    for key, raw in env.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG":
            name = key[len(ENV_PREFIX) :].lower()
            if name in known:
                values[name] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings()
    typed = {}
    for f in fields(Settings):
        if f.name in values:
            typed[f.name] = _coerce(f.name, values[f.name], f.default)
    settings = replace(settings, **typed)
    _validate(settings)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"MODERATION_CONFIG names {path}, which does not exist; "
            "fix the path or unset it"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML file ({exc})") from exc
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}; "
            f"known settings: {', '.join(sorted(known))}"
        )
    return data


_OPTIONAL_FLOATS = {
    "hold_threshold",
    "spam_threshold",
    "discard_threshold",
    "low_value_threshold",
}


def _coerce(name: str, value: Any, default: Any) -> Any:
    env_name = ENV_PREFIX + name.upper()
    try:
        if name in ("home", "training_data", "models_dir", "metrics_dir"):
            return Path(str(value)).expanduser() if value not in ("", None) else default
        if name in ("database_url", "shadow_model"):
            return str(value) or None
        if name in _OPTIONAL_FLOATS:
            return None if value in ("", None) else float(value)
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            if isinstance(value, (float, bool)):
                raise ValueError
            return int(str(value).strip())
        if isinstance(default, float):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        return str(value)
    except ValueError:
        kind = "true or false" if isinstance(default, bool) else type(default).__name__
        if name in _OPTIONAL_FLOATS:
            kind = "a number between 0 and 1"
        raise ConfigError(
            f"{env_name} = {value!r} is not valid; expected {kind}"
        ) from None


def _validate(s: Settings) -> None:
    def bad(name: str, value: Any, rule: str) -> ConfigError:
        return ConfigError(
            f"{ENV_PREFIX}{name.upper()} = {value!r} is not valid; {rule}"
        )

    if not 0.0 < s.target_fpr < 0.5:
        raise bad(
            "target_fpr", s.target_fpr, "use a share between 0 and 0.5, e.g. 0.005"
        )
    for name in _OPTIONAL_FLOATS:
        value = getattr(s, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise bad(name, value, "use a score between 0 and 1")
    if not 0 < s.port < 65536:
        raise bad("port", s.port, "use a port between 1 and 65535")
    for name in (
        "workers",
        "threads",
        "timeout",
        "max_body_bytes",
        "max_batch",
        "retention_days",
    ):
        if getattr(s, name) < 1:
            raise bad(name, getattr(s, name), "use a whole number of 1 or more")
    if s.rate_limit < 0:
        raise bad("rate_limit", s.rate_limit, "use 0 (no limit) or more")
    if s.shadow_max_rows < 1:
        raise bad(
            "shadow_max_rows", s.shadow_max_rows, "use a whole number of 1 or more"
        )
    if s.reload_seconds < 0:
        raise bad("reload_seconds", s.reload_seconds, "use 0 (never) or more seconds")
    if s.check_flush_ms < 0:
        raise bad("check_flush_ms", s.check_flush_ms, "use 0 (no batching) or more")
    if s.history_window_seconds < 0:
        raise bad(
            "history_window_seconds",
            s.history_window_seconds,
            "use 0 (no history) or more seconds, e.g. 3600",
        )
    if s.forwarded_hops < 0:
        raise bad("forwarded_hops", s.forwarded_hops, "use 0 (no proxy) or more")
