"""The store, against SQLite and the real PostgreSQL server (tests marked ``db``)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from moderation import store
from moderation.comment import Label
from moderation.errors import StoreError

PG_URL = os.environ.get(
    "MODERATION_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    yield name
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.db)])
def engine_factory(request, tmp_path):
    """Opens the store on SQLite or on PostgreSQL (in a schema of its own)."""
    engines = []
    if request.param == "sqlite":
        url, options = f"sqlite:///{tmp_path / 'store.db'}", {}
    else:
        schema = request.getfixturevalue("pg_schema")
        url, options = PG_URL, {"connect_args": {"options": f"-csearch_path={schema}"}}

    def open_store():
        engine = store.connect(url, **options)
        engines.append(engine)
        return engine

    yield open_store
    for engine in engines:
        engine.dispose()


@pytest.fixture
def db(engine_factory):
    return engine_factory()


def _check(check_id="c1", key_id=None, content=None, when=None):
    return store.CheckRecord(
        id=check_id,
        created_at=when or datetime.now(timezone.utc),
        key_id=key_id,
        site="https://blog.example",
        model_version="v1",
        verdict="spam",
        spam=0.9,
        low_value=0.1,
        content=content,
    )


def test_schema_creation_is_idempotent(engine_factory):
    """Opening the store twice (two workers starting) neither fails nor duplicates."""
    first = engine_factory()
    second = engine_factory()
    store.create_schema(second)
    with first.connect() as conn:
        assert conn.execute(
            sa.select(store.schema_version.c.version)
        ).scalars().all() == [store.SCHEMA_VERSION]


def test_newer_schema_is_refused(db):
    """A database written by a newer moderation is refused with a clear message."""
    with db.begin() as conn:
        conn.execute(
            sa.update(store.schema_version).values(version=store.SCHEMA_VERSION + 1)
        )
    with pytest.raises(StoreError, match="newer"):
        store.create_schema(db)


def test_created_key_is_12_characters_and_verifies(db):
    """A new key is 12 lowercase letters/digits, verifies, and is stored hashed."""
    key, info = store.create_key(db, "https://blog.example")
    assert len(key) == store.KEY_LENGTH and key.isalnum() and key == key.lower()
    assert store.verify_key(db, key) == info
    assert store.verify_key(db, key.upper()) == info  # keys may arrive in a host name
    with db.connect() as conn:
        stored = conn.execute(sa.select(store.api_keys)).one()
    assert key not in [str(v) for v in stored]


@pytest.mark.parametrize("bad", ["", "short", "x" * 12, "x" * 40])
def test_unknown_keys_do_not_verify(db, bad):
    store.create_key(db, "https://blog.example")
    assert store.verify_key(db, bad) is None


def test_revoke_by_key_or_id(db):
    """A key can be revoked by itself or by its id; revoked keys stop verifying."""
    key1, info1 = store.create_key(db, "https://a.example")
    key2, info2 = store.create_key(db, "https://b.example")
    assert store.revoke_key(db, key1).revoked
    assert store.revoke_key(db, info2.id).id == info2.id
    assert store.verify_key(db, key1) is None
    assert store.verify_key(db, key2) is None
    assert [k.revoked for k in store.list_keys(db)] == [True, True]
    with pytest.raises(StoreError, match="no such API key"):
        store.revoke_key(db, "k_00000000")


def test_create_key_needs_a_site(db):
    with pytest.raises(StoreError, match="site"):
        store.create_key(db, "  ")


def test_checks_round_trip_and_count(db):
    """A check is stored with its scores; its comment only when given."""
    _, info = store.create_key(db, "https://blog.example")
    store.record_checks(
        db, [_check("c1", info.id, {"content": "hi"}), _check("c2", info.id)]
    )
    found = store.find_check(db, "c1")
    assert found is not None
    assert (found.verdict, found.spam, found.content) == (
        "spam",
        0.9,
        {"content": "hi"},
    )
    assert found.created_at.tzinfo is not None
    assert store.find_check(db, "c2").content is None
    assert store.find_check(db, "nope") is None
    month = datetime.now(timezone.utc) - timedelta(days=1)
    assert store.count_checks(db, info.id, month) == 2


def test_purge_forgets_old_comment_text_only(db):
    """Retained text older than the retention period is dropped; the check stays."""
    old = datetime.now(timezone.utc) - timedelta(days=40)
    store.record_checks(
        db,
        [
            _check("old", content={"content": "a"}, when=old),
            _check("new", content={"content": "b"}),
        ],
    )
    assert store.purge_expired(db, retention_days=30) == 1
    assert store.find_check(db, "old").content is None
    assert store.find_check(db, "new").content == {"content": "b"}


def test_feedback_export_joins_checks_and_filters_by_time(db):
    """Export yields check_id, label, created_at, and content where it was kept."""
    _, info = store.create_key(db, "https://blog.example")
    store.record_check(db, _check("c1", info.id, {"content": "retained"}))
    store.record_feedback(db, Label.HAM, check_id="c1", key_id=info.id, ip="192.0.2.1")
    cut = datetime.now(timezone.utc)
    store.record_feedback(db, Label.SPAM, content={"content": "sent"}, key_id=info.id)
    rows = list(store.export_feedback(db))
    assert [r["label"] for r in rows] == ["ham", "spam"]
    assert rows[0]["check_id"] == "c1" and rows[0]["content"] == {"content": "retained"}
    assert rows[0]["verdict"] == "spam" and rows[0]["site"] == "https://blog.example"
    assert rows[1]["check_id"] is None and rows[1]["content"] == {"content": "sent"}
    assert rows[0]["created_at"].endswith("Z")
    assert [r["label"] for r in store.export_feedback(db, since=cut)] == ["spam"]


def test_feedback_survives_reopening(engine_factory):
    """Committed feedback is there for a new engine (a restarted server)."""
    first = engine_factory()
    feedback_id = store.record_feedback(first, Label.SPAM, content={"content": "x"})
    first.dispose()
    assert [r["id"] for r in store.export_feedback(engine_factory())] == [feedback_id]


def test_ping_and_unreachable_store(db):
    store.ping(db)
    with pytest.raises(StoreError):
        store.connect(
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            connect_args={"connect_timeout": 1},
        )


def test_bad_url_is_a_store_error():
    with pytest.raises(StoreError, match="database URL"):
        store.connect("nosuchdialect://x")
