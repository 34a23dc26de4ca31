"""The store: API keys, checks and moderators' feedback, in SQLite or PostgreSQL.

Functions over a SQLAlchemy ``Engine``; callers get dataclasses and plain dicts, never
rows. ``connect`` opens the configured database and creates or upgrades the schema
(idempotent, safe when several server processes start at once); the schema version and
the migrations live here and nowhere else.

Recent history (``recent_comments``) keeps one hashed fingerprint per scored comment for
a bounded window (``prune_recent``), so copy campaigns and bursts are seen across
workers and instances; ``history_counts`` reads all four counts in one statement.
``reported_domains`` counts, per key, the domains of comments labelled spam.

SQLite (the default, a file under ``MODERATION_HOME``) runs in WAL mode with a busy
timeout, so several gunicorn workers can write to it. Checks are committed with
``synchronous=NORMAL`` (they survive a crash of the server process, not of the
machine); feedback is committed with ``synchronous=FULL`` before the service answers,
so acknowledged feedback survives both.

API keys are 12 characters (Akismet clients insist on that) of lowercase letters and
digits, since keys may travel in a host name. Only their sha256 is stored. This module
never logs a key, imports neither Flask nor scikit-learn, and knows nothing of HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from moderation.comment import Label
from moderation.errors import StoreError
from moderation.policy import SitePolicy

__all__ = [
    "KEY_LENGTH",
    "SCHEMA_VERSION",
    "CheckRecord",
    "KeyInfo",
    "RecentComment",
    "ShadowRecord",
    "compare_shadow",
    "current_model",
    "set_current_model",
    "record_shadow",
    "connect",
    "count_checks",
    "create_key",
    "create_schema",
    "export_feedback",
    "count_recent",
    "find_check",
    "history_counts",
    "list_reported_domains",
    "list_keys",
    "ping",
    "prune_recent",
    "purge_expired",
    "record_check",
    "record_checks",
    "record_feedback",
    "record_recent",
    "report_domains",
    "revoke_key",
    "set_key_policy",
    "update_key_policy",
    "verify_key",
]

KEY_LENGTH = 12
_KEY_ALPHABET = string.ascii_lowercase + string.digits
SCHEMA_VERSION = 2


class _UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("site", Text, nullable=False),
    Column("created_at", _UTCDateTime, nullable=False),
    Column("revoked_at", _UTCDateTime, nullable=True),
    Column("policy", Text, nullable=True),  # the site's policy as JSON (schema 2)
)

checks = Table(
    "checks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", _UTCDateTime, nullable=False),
    Column("key_id", String(16), ForeignKey("api_keys.id"), nullable=True),
    Column("site", Text, nullable=True),
    Column("model_version", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("spam", Float, nullable=False),
    Column("low_value", Float, nullable=False),
    Column("content", Text, nullable=True),  # the comment as JSON, only if retained
    Index("ix_checks_created_at", "created_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("check_id", String(32), nullable=True),
    Column("label", String(16), nullable=False),
    Column("created_at", _UTCDateTime, nullable=False),
    Column("key_id", String(16), ForeignKey("api_keys.id"), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("source", String(16), nullable=False),  # "api" or "akismet"
    Column("content", Text, nullable=True),  # the comment as JSON, when it was sent
    Index("ix_feedback_created_at", "created_at"),
    Index("ix_feedback_check_id", "check_id"),
)

# One row per scored comment, kept for MODERATION_HISTORY_WINDOW_SECONDS. Values are
# truncated sha256 digests ('' when not sent), never the text, address or e-mail.
# Each look-up is an equality on key, digest and a time range: one index apiece.
recent_comments = Table(
    "recent_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", _UTCDateTime, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("text_hash", String(32), nullable=False),
    Column("author_hash", String(32), nullable=False),
    Column("ip_hash", String(32), nullable=False),
    Column("post_hash", String(32), nullable=False),
    Index("ix_recent_text", "key_id", "text_hash", "created_at"),
    Index("ix_recent_author", "key_id", "author_hash", "created_at"),
    Index("ix_recent_ip", "key_id", "ip_hash", "created_at"),
    Index("ix_recent_created_at", "created_at"),
)

# Domains this site's moderators labelled spam (one row per key and domain).
reported_domains = Table(
    "reported_domains",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("domain", String(255), primary_key=True),
    Column("reports", Integer, nullable=False),
    Column("updated_at", _UTCDateTime, nullable=False),
)

# The model version promoted last, so that every service instance agrees on it
# (one row per promotion or rollback; the newest wins).
model_registry = Table(
    "model_registry",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("created_at", _UTCDateTime, nullable=False),
)


def set_current_model(engine: Engine, version: str, action: str = "promote") -> None:
    """Record that ``version`` is now the one to serve (promote or rollback).

    Raises:
        StoreError: the store cannot be written.
    """
    with _writing(engine, "record the current model") as conn:
        conn.execute(
            model_registry.insert().values(
                version=version, action=action, created_at=_now()
            )
        )


def current_model(engine: Engine) -> str | None:
    """The version the store says every instance should serve, or ``None``.

    Raises:
        StoreError: the store cannot be read.
    """
    query = (
        select(model_registry.c.version)
        .order_by(model_registry.c.created_at.desc(), model_registry.c.id.desc())
        .limit(1)
    )
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the current model ({_db_reason(exc)})") from exc


# Shadow mode: the same live comment scored by a candidate model too (bounded in rows).
shadow_checks = Table(
    "shadow_checks",
    metadata,
    Column("check_id", String(32), primary_key=True),
    Column("created_at", _UTCDateTime, nullable=False),
    Column("key_id", String(16), nullable=True),
    Column("live_model", String(64), nullable=False),
    Column("shadow_model", String(64), nullable=False),
    Column("live_verdict", String(16), nullable=False),
    Column("shadow_verdict", String(16), nullable=False),
    Column("live_spam", Float, nullable=False),
    Column("shadow_spam", Float, nullable=False),
    Column("content", Text, nullable=True),  # only when retention is on
    Index("ix_shadow_checks_model_time", "shadow_model", "created_at"),
)


@dataclass(frozen=True)
class ShadowRecord:
    """One live comment's verdict from the serving model and from the shadow model."""

    check_id: str
    created_at: datetime
    key_id: str | None
    live_model: str
    shadow_model: str
    live_verdict: str
    shadow_verdict: str
    live_spam: float
    shadow_spam: float
    content: dict[str, Any] | None = None


def record_shadow(engine: Engine, records: list[ShadowRecord], max_rows: int) -> None:
    """Store shadow verdicts, then keep only the newest ``max_rows`` of them.

    Raises:
        StoreError: the store cannot be written.
    """
    if not records:
        return
    rows = [dict(vars(r), content=_dump(r.content)) for r in records]
    with _writing(engine, "record shadow verdicts") as conn:
        conn.execute(shadow_checks.insert(), rows)
        count = conn.execute(
            select(func.count()).select_from(shadow_checks)
        ).scalar_one()
        if count > max_rows:
            cutoff = conn.execute(
                select(shadow_checks.c.created_at)
                .order_by(shadow_checks.c.created_at.desc())
                .offset(max_rows)
                .limit(1)
            ).scalar_one_or_none()
            if cutoff is not None:
                conn.execute(
                    shadow_checks.delete().where(shadow_checks.c.created_at <= cutoff)
                )


def compare_shadow(
    engine: Engine, shadow_model: str | None = None, limit: int = 20
) -> dict[str, Any]:
    """Agreement between the serving and the shadow model on live comments.

    Args:
        engine: the store.
        shadow_model: the candidate to report on (default: the most recent one).
        limit: how many disagreements to list, newest first.

    Returns:
        ``shadow_model``, ``n``, ``agreement`` (share of equal verdicts), ``pairs``
        (``"live->shadow"`` -> count) and ``disagreements`` (newest first).

    Raises:
        StoreError: the store cannot be read.
    """
    t = shadow_checks
    try:
        with engine.connect() as conn:
            if shadow_model is None:
                shadow_model = conn.execute(
                    select(t.c.shadow_model).order_by(t.c.created_at.desc()).limit(1)
                ).scalar_one_or_none()
            if shadow_model is None:
                return {
                    "shadow_model": None,
                    "n": 0,
                    "agreement": None,
                    "pairs": {},
                    "disagreements": [],
                }
            pairs = {
                f"{live}->{shadow}": n
                for live, shadow, n in conn.execute(
                    select(t.c.live_verdict, t.c.shadow_verdict, func.count())
                    .where(t.c.shadow_model == shadow_model)
                    .group_by(t.c.live_verdict, t.c.shadow_verdict)
                )
            }
            rows = conn.execute(
                select(t)
                .where(t.c.shadow_model == shadow_model)
                .where(t.c.live_verdict != t.c.shadow_verdict)
                .order_by(t.c.created_at.desc())
                .limit(limit)
            ).mappings()
            disagreements = []
            for row in rows:
                item = {
                    k: row[k]
                    for k in (
                        "check_id",
                        "live_model",
                        "live_verdict",
                        "shadow_verdict",
                        "live_spam",
                        "shadow_spam",
                    )
                }
                item["created_at"] = _iso(row["created_at"])
                content = _load(row["content"])
                if content is not None:
                    item["content"] = content
                disagreements.append(item)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read the shadow verdicts ({_db_reason(exc)})"
        ) from exc
    n = sum(pairs.values())
    agree = sum(v for k, v in pairs.items() if k.split("->")[0] == k.split("->")[1])
    return {
        "shadow_model": shadow_model,
        "n": n,
        "agreement": agree / n if n else None,
        "pairs": dict(sorted(pairs.items(), key=lambda kv: -kv[1])),
        "disagreements": disagreements,
    }


def _add_column(conn: Connection, table: str, column: str, kind: str) -> None:
    # Idempotent: a column another process (or an earlier attempt) added is kept.
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))


# Upgrades from version N to N + 1, run in one transaction after ``create_all`` has
# made any new tables; each step is idempotent.
_MIGRATIONS: dict[int, list[Callable[[Connection], None]]] = {
    # 1 -> 2: per-site policy on keys; recent_comments and reported_domains are new
    # tables, created by create_all.
    1: [lambda conn: _add_column(conn, "api_keys", "policy", "TEXT")],
}


@dataclass(frozen=True)
class KeyInfo:
    """An API key as listed: never the key itself, which is shown only once."""

    id: str
    site: str
    created_at: datetime
    revoked_at: datetime | None = None
    policy: dict[str, Any] = field(default_factory=dict)  # the site's policy settings

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site,
            "created_at": _iso(self.created_at),
            "revoked_at": _iso(self.revoked_at) if self.revoked_at else None,
            "policy": dict(self.policy),
        }


@dataclass(frozen=True)
class CheckRecord:
    """One scored comment, as stored."""

    id: str
    created_at: datetime
    key_id: str | None
    site: str | None
    model_version: str
    verdict: str
    spam: float
    low_value: float
    content: dict[str, Any] | None = None


def connect(url: str, create: bool = True, **engine_options: Any) -> Engine:
    """Open the store and (by default) create or upgrade its schema.

    Args:
        url: a SQLAlchemy URL: ``sqlite:///path`` or ``postgresql+psycopg://...``.
        create: create the tables and run pending migrations (idempotent).
        **engine_options: passed to ``create_engine`` (tests pass ``connect_args``).

    Returns:
        The ``Engine``; share it within one process, never across a fork.

    Raises:
        StoreError: the URL is unusable or the database cannot be reached.
    """
    options: dict[str, Any] = {"pool_pre_ping": True}
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        options["connect_args"] = {"check_same_thread": False, "timeout": 10}
    options.update(engine_options)
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise StoreError(
            f"the database URL is not usable ({type(exc).__name__}); "
            "use sqlite:///PATH "
            "or postgresql+psycopg://USER@HOST/DB and install moderation[postgres]"
        ) from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        create_schema(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_schema(engine: Engine) -> None:
    """Create missing tables and apply pending migrations; safe to run concurrently.

    Raises:
        StoreError: the database cannot be reached, or its schema is newer than this
            version of moderation understands.
    """
    try:
        engine.connect().close()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot reach the store at {_safe_url(engine)} ({_db_reason(exc)}); check "
            "MODERATION_DATABASE_URL and that the database is up"
        ) from exc
    for attempt in range(5):
        try:
            _create_schema_once(engine)
            return
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            # Another process may be creating the same tables right now: retry, and
            # the next attempt finds them.
            if attempt == 4:
                raise StoreError(
                    f"cannot create the store's tables in {_safe_url(engine)} "
                    f"({_db_reason(exc)}); check the database URL and permissions"
                ) from exc
            time.sleep(0.2 * (attempt + 1))


def _create_schema_once(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Serialise concurrent starts; released at commit.
            conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        metadata.create_all(conn, checkfirst=True)
        found = conn.execute(select(schema_version.c.version)).scalar()
        if found is None:
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the store's schema is version {found}, newer than the "
                f"{SCHEMA_VERSION} "
                "this version of moderation understands; upgrade moderation"
            )
        for version in range(found, SCHEMA_VERSION):
            for step in _MIGRATIONS.get(version, []):
                step(conn)
        if found != SCHEMA_VERSION:
            conn.execute(update(schema_version).values(version=SCHEMA_VERSION))


def ping(engine: Engine) -> None:
    """Check that the store answers.

    Raises:
        StoreError: it does not; the message says why without secrets.
    """
    try:
        with engine.connect() as conn:
            conn.execute(select(schema_version.c.version)).scalar()
    except SQLAlchemyError as exc:
        raise StoreError(f"the store does not answer ({_db_reason(exc)})") from exc


# --- API keys -------------------------------------------------------------------------


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: Engine, site: str) -> tuple[str, KeyInfo]:
    """Create an API key for a site.

    Args:
        engine: the store.
        site: the site the key belongs to (its front-page URL).

    Returns:
        The key (12 characters; shown once, stored only as a hash) and its ``KeyInfo``.

    Raises:
        StoreError: the key cannot be written.
    """
    site = site.strip()
    if not site:
        raise StoreError(
            "a key needs a site: give the blog's URL, e.g. https://myblog.example"
        )
    key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(KEY_LENGTH))
    info = KeyInfo(id="k_" + secrets.token_hex(4), site=site, created_at=_now())
    with _writing(engine, "create the key") as conn:
        conn.execute(
            api_keys.insert().values(
                id=info.id,
                key_hash=_hash_key(key),
                site=info.site,
                created_at=info.created_at,
            )
        )
    return key, info


def list_keys(engine: Engine) -> list[KeyInfo]:
    """Every key, oldest first, revoked ones included."""
    with _reading(engine) as conn:
        rows = conn.execute(
            select(
                api_keys.c.id,
                api_keys.c.site,
                api_keys.c.created_at,
                api_keys.c.revoked_at,
                api_keys.c.policy,
            ).order_by(api_keys.c.created_at, api_keys.c.id)
        ).all()
    return [
        KeyInfo(r.id, r.site, r.created_at, r.revoked_at, _load(r.policy) or {})
        for r in rows
    ]


def revoke_key(engine: Engine, key_or_id: str) -> KeyInfo:
    """Revoke a key, given the key itself or its id (as ``keys list`` shows).

    Returns:
        The revoked key's ``KeyInfo`` (already revoked keys are returned unchanged).

    Raises:
        StoreError: no such key.
    """
    with _writing(engine, "revoke the key") as conn:
        row = _key_row(conn, key_or_id)
        revoked_at = row.revoked_at
        if revoked_at is None:
            revoked_at = _now()
            conn.execute(
                update(api_keys)
                .where(api_keys.c.id == row.id)
                .values(revoked_at=revoked_at)
            )
    return KeyInfo(
        row.id, row.site, row.created_at, revoked_at, _load(row.policy) or {}
    )


def set_key_policy(
    engine: Engine, key_or_id: str, policy: dict[str, Any] | None
) -> KeyInfo:
    """Replace a site's policy settings on its key (``None`` or ``{}`` resets them).

    See ``update_key_policy``.
    """
    return update_key_policy(engine, key_or_id, policy or {}, reset=True)


def update_key_policy(
    engine: Engine,
    key_or_id: str,
    changes: dict[str, Any],
    reset: bool = False,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> KeyInfo:
    """Change a site's policy settings, stored as JSON on its key.

    Args:
        engine: the store.
        key_or_id: the key, or its id as ``keys list`` shows it.
        changes: settings to set (``None`` values are left as they are); see
            ``SitePolicy`` for the names.
        reset: start from the service's defaults instead of the key's settings.
        check: called with the resulting settings before they are written; raise
            ``ModerationError`` to refuse them (the CLI checks them against the
            current model's thresholds).

    Returns:
        The key's ``KeyInfo`` with its new policy.

    Raises:
        StoreError: no such key, or the store cannot be written.
        ConfigError: the settings are invalid (unknown name, value out of range).
    """
    with _writing(engine, "set the key's policy") as conn:
        row = _key_row(conn, key_or_id)
        policy = {} if reset else dict(_load(row.policy) or {})
        policy.update({k: v for k, v in changes.items() if v is not None})
        SitePolicy.from_dict(policy)  # raises ConfigError naming the bad setting
        if check is not None:
            check(policy)
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == row.id)
            .values(policy=_dump(policy) if policy else None)
        )
    return KeyInfo(row.id, row.site, row.created_at, row.revoked_at, policy)


def _key_condition(key_or_id: str) -> Any:
    value = key_or_id.strip()
    return (
        api_keys.c.id == value
        if value.startswith("k_")
        else api_keys.c.key_hash == _hash_key(value.lower())
    )


_NO_SUCH_KEY = (
    "no such API key; give a key, or a key id as 'moderation keys list' shows it"
)


def _key_row(conn: Connection, key_or_id: str) -> Any:
    # One key's row, found by the key itself or its id; StoreError when there is none.
    row = conn.execute(
        select(
            api_keys.c.id,
            api_keys.c.site,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
            api_keys.c.policy,
        ).where(_key_condition(key_or_id))
    ).first()
    if row is None:
        raise StoreError(_NO_SUCH_KEY)
    return row


def verify_key(engine: Engine, key: str) -> KeyInfo | None:
    """The ``KeyInfo`` of a valid, unrevoked key, else ``None``.

    Keys are compared by their sha256 in constant time; case is ignored, since a key
    may arrive in a host name.

    Raises:
        StoreError: the store cannot be read.
    """
    if not key or len(key) != KEY_LENGTH:
        return None
    digest = _hash_key(key.lower())
    with _reading(engine) as conn:
        row = conn.execute(
            select(
                api_keys.c.id,
                api_keys.c.key_hash,
                api_keys.c.site,
                api_keys.c.created_at,
                api_keys.c.revoked_at,
                api_keys.c.policy,
            ).where(api_keys.c.key_hash == digest)
        ).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    return KeyInfo(row.id, row.site, row.created_at, None, _load(row.policy) or {})


# --- checks ---------------------------------------------------------------------------


def record_check(
    engine: Engine,
    check: CheckRecord,
) -> None:
    """Store one check (see ``record_checks``)."""
    record_checks(engine, [check])


def record_checks(engine: Engine, records: list[CheckRecord]) -> None:
    """Store checks in one transaction; ``content`` is written only when it is set.

    Raises:
        StoreError: the store cannot be written.
    """
    if not records:
        return
    rows = [
        {
            "id": r.id,
            "created_at": r.created_at,
            "key_id": r.key_id,
            "site": r.site,
            "model_version": r.model_version,
            "verdict": r.verdict,
            "spam": r.spam,
            "low_value": r.low_value,
            "content": _dump(r.content),
        }
        for r in records
    ]
    with _writing(engine, "record the check") as conn:
        conn.execute(checks.insert(), rows)


def find_check(engine: Engine, check_id: str) -> CheckRecord | None:
    """The stored check with this id, or ``None``."""
    with _reading(engine) as conn:
        row = conn.execute(select(checks).where(checks.c.id == check_id)).first()
    if row is None:
        return None
    return CheckRecord(
        id=row.id,
        created_at=row.created_at,
        key_id=row.key_id,
        site=row.site,
        model_version=row.model_version,
        verdict=row.verdict,
        spam=row.spam,
        low_value=row.low_value,
        content=_load(row.content),
    )


def count_checks(engine: Engine, key_id: str, since: datetime) -> int:
    """How many checks a key made since a time (Akismet's usage-limit)."""
    with _reading(engine) as conn:
        found = conn.execute(
            select(func.count())
            .select_from(checks)
            .where(checks.c.key_id == key_id, checks.c.created_at >= since)
        ).scalar()
    return int(found or 0)


def purge_expired(
    engine: Engine, retention_days: int, now: datetime | None = None
) -> int:
    """Forget the retained text of checks older than the retention period.

    The check itself (time, verdict, scores) is kept; feedback is kept whole, as a
    moderator sent it on purpose.

    Returns:
        How many checks lost their text.
    """
    cutoff = (now or _now()) - timedelta(days=retention_days)
    with _writing(engine, "purge expired comments") as conn:
        result = conn.execute(
            update(checks)
            .where(checks.c.created_at < cutoff, checks.c.content.is_not(None))
            .values(content=None)
        )
    return int(result.rowcount or 0)


# --- recent history -------------------------------------------------------------------


@dataclass(frozen=True)
class RecentComment:
    """A scored comment's fingerprint: digests only ('' for what was not sent).

    Attributes:
        key_id: the key (site) it was scored for.
        text_hash: digest of the normalised text (near-same texts share it).
        author_hash: digest of the author's e-mail, else name.
        ip_hash: digest of the author's IP address.
        post_hash: digest of the post's permalink.
        domains: the domains the comment links to (for reported-domain counts; not
            stored with the fingerprint).
        created_at: when it was scored (default: now).
    """

    key_id: str
    text_hash: str
    author_hash: str = ""
    ip_hash: str = ""
    post_hash: str = ""
    domains: tuple[str, ...] = ()
    created_at: datetime | None = None


def record_recent(engine: Engine, recent: Sequence[RecentComment]) -> None:
    """Add fingerprints to the recent history, in one transaction.

    Raises:
        StoreError: the store cannot be written.
    """
    if not recent:
        return
    now = _now()
    rows = [
        {
            "created_at": r.created_at or now,
            "key_id": r.key_id,
            "text_hash": r.text_hash,
            "author_hash": r.author_hash,
            "ip_hash": r.ip_hash,
            "post_hash": r.post_hash,
        }
        for r in recent
    ]
    with _writing(engine, "record recent comments") as conn:
        conn.execute(recent_comments.insert(), rows)


def history_counts(
    engine: Engine,
    recent: RecentComment,
    window_seconds: float,
    burst_seconds: float,
    now: datetime | None = None,
) -> dict[str, int]:
    """What the recent history says about a comment, in one statement.

    Args:
        engine: the store.
        recent: the comment's fingerprint (not yet recorded).
        window_seconds: how far back copies are counted.
        burst_seconds: how far back an author's or IP's comments count as a burst.
        now: the time of the comment (default: now).

    Returns:
        ``history_copies``: earlier comments with the same text from other authors or
        under other posts (an author re-sending to the same post is not a campaign;
        without an author the IP stands in, and with neither only other posts count);
        ``history_author_burst`` and ``history_ip_burst``: earlier comments from the
        same author or IP within the burst window; ``history_spam_domains``: how many
        of the comment's domains this site's moderators labelled spam.

    Raises:
        StoreError: the store cannot be read.
    """
    now = now or _now()
    with _reading(engine) as conn:
        row = conn.execute(
            _HISTORY_QUERY,
            {
                "key_id": recent.key_id,
                "text_hash": recent.text_hash,
                "author_hash": recent.author_hash,
                "ip_hash": recent.ip_hash,
                "post_hash": recent.post_hash,
                "since": now - timedelta(seconds=window_seconds),
                "burst": now - timedelta(seconds=min(burst_seconds, window_seconds)),
                "domains": sorted(set(recent.domains))[:50],
            },
        ).one()
    return {
        "history_copies": int(row[0] or 0),
        "history_author_burst": int(row[1] or 0),
        "history_ip_burst": int(row[2] or 0),
        "history_spam_domains": int(row[3] or 0),
    }


def _history_query() -> Any:
    # Built once, with bound parameters, so SQLAlchemy compiles it once per dialect:
    # building the expression per call cost more than running it. An empty digest
    # ('' = not sent) matches nothing; see ``history_counts`` for the rules.
    rc = recent_comments.c
    p = {
        name: bindparam(name, type_=String)
        for name in ("key_id", "text_hash", "author_hash", "ip_hash", "post_hash")
    }
    since = bindparam("since", type_=_UTCDateTime)
    burst = bindparam("burst", type_=_UTCDateTime)
    same_origin = and_(
        rc.post_hash == p["post_hash"],
        or_(
            and_(p["author_hash"] != "", rc.author_hash == p["author_hash"]),
            and_(
                p["author_hash"] == "",
                p["ip_hash"] != "",
                rc.ip_hash == p["ip_hash"],
            ),
            and_(p["author_hash"] == "", p["ip_hash"] == ""),
        ),
    )

    def count(digest: str, *where: Any) -> Any:
        return (
            select(func.count())
            .select_from(recent_comments)
            .where(
                rc.key_id == p["key_id"],
                getattr(rc, digest) == p[digest],
                p[digest] != "",
                *where,
            )
            .scalar_subquery()
        )

    domains = (
        select(func.count())
        .select_from(reported_domains)
        .where(
            reported_domains.c.key_id == p["key_id"],
            reported_domains.c.domain.in_(bindparam("domains", expanding=True)),
        )
        .scalar_subquery()
    )
    return select(
        count("text_hash", rc.created_at >= since, not_(same_origin)),
        count("author_hash", rc.created_at >= burst),
        count("ip_hash", rc.created_at >= burst),
        domains,
    )


_HISTORY_QUERY = _history_query()


def prune_recent(
    engine: Engine, window_seconds: float, now: datetime | None = None
) -> int:
    """Forget fingerprints older than the window (the history stays bounded).

    Returns:
        How many were removed.

    Raises:
        StoreError: the store cannot be written.
    """
    cutoff = (now or _now()) - timedelta(seconds=window_seconds)
    with _writing(engine, "prune recent comments") as conn:
        result = conn.execute(
            recent_comments.delete().where(recent_comments.c.created_at < cutoff)
        )
    return int(result.rowcount or 0)


def count_recent(engine: Engine) -> int:
    """How many fingerprints the recent history holds."""
    with _reading(engine) as conn:
        found = conn.execute(select(func.count()).select_from(recent_comments)).scalar()
    return int(found or 0)


def report_domains(
    engine: Engine, key_id: str, domains: Sequence[str], conn: Connection | None = None
) -> None:
    """Count one spam report against each domain, for this key's site.

    Raises:
        StoreError: the store cannot be written.
    """
    names = sorted({d.lower()[:255] for d in domains if d})
    if not names:
        return
    if conn is None:
        with _writing(engine, "record reported domains") as own:
            _upsert_domains(own, key_id, names)
    else:
        _upsert_domains(conn, key_id, names)


def _upsert_domains(conn: Connection, key_id: str, names: list[str]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    now = _now()
    statement = dialect.insert(reported_domains).values(
        [
            {"key_id": key_id, "domain": n, "reports": 1, "updated_at": now}
            for n in names
        ]
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["key_id", "domain"],
            set_={
                "reports": reported_domains.c.reports + 1,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def list_reported_domains(engine: Engine, key_id: str) -> dict[str, int]:
    """A key's reported domains and how often each was reported."""
    with _reading(engine) as conn:
        rows = conn.execute(
            select(reported_domains.c.domain, reported_domains.c.reports).where(
                reported_domains.c.key_id == key_id
            )
        ).all()
    return {r.domain: r.reports for r in rows}


# --- feedback -------------------------------------------------------------------------


def record_feedback(
    engine: Engine,
    label: Label,
    check_id: str | None = None,
    content: dict[str, Any] | None = None,
    key_id: str | None = None,
    ip: str | None = None,
    source: str = "api",
    domains: Sequence[str] = (),
) -> str:
    """Store a moderator's label, durably, before returning.

    Args:
        engine: the store.
        label: the moderator's label.
        check_id: the check being corrected, if known.
        content: the comment as a score request, when the client sent it.
        key_id: the key the feedback came with.
        ip: the client's address.
        source: ``api`` or ``akismet``.
        domains: the domains the comment links to; a ``spam`` label with a key
            reports each of them for that key's site (``history_counts``).

    Returns:
        The new feedback's id.

    Raises:
        StoreError: the store cannot be written; nothing was stored.
    """
    feedback_id = uuid.uuid4().hex
    values = {
        "id": feedback_id,
        "check_id": check_id,
        "label": Label(label).value,
        "created_at": _now(),
        "key_id": key_id,
        "ip": ip[:64] if ip else None,
        "source": source,
        "content": _dump(content),
    }
    with _writing(engine, "record the feedback", durable=True) as conn:
        conn.execute(feedback.insert().values(**values))
        if key_id is not None and Label(label) is Label.SPAM:
            report_domains(engine, key_id, domains, conn=conn)
    return feedback_id


def export_feedback(
    engine: Engine, since: datetime | None = None, with_origin: bool = False
) -> Iterator[dict[str, Any]]:
    """Stored feedback, oldest first, as JSON-ready dicts.

    Each dict has ``id``, ``check_id``, ``label``, ``created_at`` (ISO 8601), ``site``,
    ``source``, the check's ``verdict`` and ``model`` when known, and ``content`` (the
    comment as a score request) when it was sent or retained.

    Args:
        engine: the store.
        since: only feedback created at or after this time.
        with_origin: also give ``key_id`` and ``ip`` (for retraining's guard against
            one source flooding the labels; not part of the admin export).

    Raises:
        StoreError: the store cannot be read.
    """
    query = (
        select(
            feedback.c.id,
            feedback.c.check_id,
            feedback.c.label,
            feedback.c.created_at,
            feedback.c.source,
            feedback.c.content,
            feedback.c.key_id,
            feedback.c.ip,
            api_keys.c.site,
            checks.c.verdict,
            checks.c.model_version,
            checks.c.content.label("check_content"),
        )
        .select_from(
            feedback.outerjoin(checks, checks.c.id == feedback.c.check_id).outerjoin(
                api_keys, api_keys.c.id == feedback.c.key_id
            )
        )
        .order_by(feedback.c.created_at, feedback.c.id)
    )
    if since is not None:
        query = query.where(feedback.c.created_at >= since)
    try:
        with engine.connect() as conn:
            for row in conn.execute(query).yield_per(500):
                item: dict[str, Any] = {
                    "id": row.id,
                    "check_id": row.check_id,
                    "label": row.label,
                    "created_at": _iso(row.created_at),
                    "site": row.site,
                    "source": row.source,
                    "verdict": row.verdict,
                    "model": row.model_version,
                }
                if with_origin:
                    item["key_id"] = row.key_id
                    item["ip"] = row.ip
                content = _load(row.content) or _load(row.check_content)
                if content is not None:
                    item["content"] = content
                yield item
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the feedback ({_db_reason(exc)})") from exc


# --- helpers --------------------------------------------------------------------------


@contextmanager
def _writing(engine: Engine, what: str, durable: bool = False) -> Iterator[Connection]:
    """A write transaction whose database errors become ``StoreError``."""
    full_sync = durable and engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if full_sync:
                # Set outside the transaction: pysqlite begins one only before DML.
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
                conn.commit()
            try:
                with conn.begin():
                    yield conn
            finally:
                if full_sync:
                    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                    conn.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot {what} ({_db_reason(exc)})") from exc


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads whose database errors become ``StoreError``."""
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the store ({_db_reason(exc)})") from exc


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime) -> str:
    return (
        value.astimezone(timezone.utc)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def _dump(content: dict[str, Any] | None) -> str | None:
    return (
        None
        if content is None
        else json.dumps(content, ensure_ascii=False, sort_keys=True)
    )


def _load(content: str | None) -> dict[str, Any] | None:
    return None if content is None else json.loads(content)


def _db_reason(exc: BaseException) -> str:
    # The driver's message names the failure without the password; keep one line.
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        message = str(exc.orig)
    else:
        message = type(exc).__name__
    return (
        message.strip().splitlines()[0][:200] if message.strip() else type(exc).__name__
    )


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
