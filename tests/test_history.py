"""Recent history in the store (issue 4): fingerprints, the counts one statement reads,
the bounded window, reported domains from spam feedback, and the schema 1 -> 2
upgrade that adds per-site policy."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from moderation.comment import Comment, Label
from moderation.history import fingerprint
from moderation.store import (
    SCHEMA_VERSION,
    connect,
    count_recent,
    create_key,
    history_counts,
    list_keys,
    list_reported_domains,
    prune_recent,
    record_feedback,
    record_recent,
    set_key_policy,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
TEXT = "Wonderful insights, I learned a lot from this piece."


def comment(author="", ip="", post="", content=TEXT):
    return Comment.from_dict(
        {
            "content": content,
            "author": {"name": author, "ip": ip},
            "post": {"permalink": post},
        }
    )


def at(minutes_ago, fp):
    from dataclasses import replace

    return replace(fp, created_at=NOW - timedelta(minutes=minutes_ago))


def counts(engine, c, key="k_1"):
    return history_counts(engine, fingerprint(c, key), 3600, 600, now=NOW)


def test_fingerprint_hides_everything_and_ignores_case_spacing_and_links():
    a = fingerprint(comment("Ana", "10.0.0.1", "https://b.example/1"), "k_1")
    b = fingerprint(
        Comment.from_dict(
            {"content": "WONDERFUL   insights, I learned a lot from this piece."}
        ),
        "k_1",
    )
    assert a.text_hash == b.text_hash and len(a.text_hash) == 32
    assert "Ana" not in repr(a) and "10.0.0.1" not in repr(a)
    assert fingerprint(comment(content="Thanks!"), "k_1").text_hash == ""
    linked = fingerprint(
        Comment.from_dict(
            {"content": "see https://www.Spam.example/x", "author": {"url": "bit.ly/a"}}
        ),
        "k_1",
    )
    assert linked.domains == ("bit.ly", "spam.example")


def test_counts_copies_from_other_authors_or_posts_within_the_window(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 's.db'}")
    record_recent(
        engine,
        [
            at(5, fingerprint(comment("a", "1.1.1.1", "p1"), "k_1")),
            at(6, fingerprint(comment("b", "1.1.1.2", "p2"), "k_1")),
            at(7, fingerprint(comment("me", "1.1.1.3", "p3"), "k_1")),  # other post
            at(8, fingerprint(comment("me", "1.1.1.3", "p9"), "k_1")),  # same: no copy
            at(90, fingerprint(comment("c", "1.1.1.4", "p4"), "k_1")),  # too old
            at(5, fingerprint(comment("d", "1.1.1.5", "p5"), "k_2")),  # other site
            at(
                1,
                fingerprint(
                    comment("me", "1.1.1.3", "p7", "Other text here ok"), "k_1"
                ),
            ),
        ],
    )
    found = counts(engine, comment("me", "1.1.1.3", "p9"))
    assert found == {
        "history_copies": 3,
        "history_author_burst": 3,  # 1, 7 and 8 minutes ago; not the 90-minute one
        "history_ip_burst": 3,
        "history_spam_domains": 0,
    }


def test_without_author_the_ip_and_without_both_the_post_tells_origins_apart(
    tmp_path,
):
    engine = connect(f"sqlite:///{tmp_path / 's.db'}")
    record_recent(
        engine,
        [
            at(1, fingerprint(comment("", "9.9.9.9", "p1"), "k_1")),
            at(2, fingerprint(comment("", "", "p1"), "k_1")),
        ],
    )
    assert counts(engine, comment("", "9.9.9.9", "p1"))["history_copies"] == 1
    assert counts(engine, comment("", "", "p1"))["history_copies"] == 0
    assert counts(engine, comment("", "", "p2"))["history_copies"] == 2


def test_prune_keeps_the_history_bounded(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 's.db'}")
    fp = fingerprint(comment("a"), "k_1")
    record_recent(engine, [at(m, fp) for m in (1, 30, 61, 120, 600)])
    assert prune_recent(engine, 3600, now=NOW) == 3
    assert count_recent(engine) == 2


def test_spam_feedback_reports_its_domains_for_that_site_only(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 's.db'}")
    _, key = create_key(engine, "https://blog.example")
    _, other = create_key(engine, "https://other.example")
    for _ in range(2):
        record_feedback(
            engine, Label.SPAM, key_id=key.id, domains=("pills.example", "bit.ly")
        )
    record_feedback(engine, Label.HAM, key_id=key.id, domains=("docs.python.org",))
    assert list_reported_domains(engine, key.id) == {"pills.example": 2, "bit.ly": 2}
    c = Comment("Buy at http://pills.example/x and https://fine.example")
    assert counts(engine, c, key.id)["history_spam_domains"] == 1
    assert counts(engine, c, other.id)["history_spam_domains"] == 0


def test_a_version_1_store_is_upgraded_in_place_and_idempotently(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = connect(url)
    _, key = create_key(engine, "https://blog.example")
    with engine.begin() as conn:  # back to schema 1: no policy column, no history
        conn.execute(text("DROP TABLE recent_comments"))
        conn.execute(text("DROP TABLE reported_domains"))
        conn.execute(text("ALTER TABLE api_keys DROP COLUMN policy"))
        conn.execute(text("UPDATE schema_version SET version = 1"))
    engine.dispose()
    for _ in range(2):
        engine = connect(url)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version FROM schema_version")).scalar()
        assert version == SCHEMA_VERSION == 2
    set_key_policy(engine, key.id, {"spam": 0.8})
    assert list_keys(engine)[0].policy == {"spam": 0.8}
    assert count_recent(engine) == 0
