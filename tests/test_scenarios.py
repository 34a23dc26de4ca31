"""Issue 4's scenarios through the real HTTP API: each asserts the verdict and the
leading reason an admin would read. The service scores with the session mini-model,
its own thresholds and the documented metadata priors; no site policy is needed."""

from __future__ import annotations

import pytest

from moderation.config import load_settings
from moderation.store import create_key

FARM = {
    "name": "Grow Your Followers Fast Today",
    "url": "http://bit.ly/growfast",
    "followers": 15_000_000,
    "following": 7_500,
    "posts": 4,
    "account_age_days": 1,
}
REGULAR = {
    "name": "Ana",
    "email": "ana@example.org",
    "approved_comments": 40,
    "account_age_days": 2000,
    "followers": 80,
    "posts": 300,
}
POST = {
    "permalink": "https://blog.example/rye-starter",
    "title": "Feeding a rye sourdough starter",
    "text": "Feed the rye starter twice a day. Which flour do you use for yours?",
}
# Praise that would fit any post, except that it names this one's subject.
PRAISE = "Great article on feeding a rye starter, very informative, thanks for sharing!"
CAMPAIGN = "Wonderful insights, I learned a lot from this piece."
METADATA_CODES = {
    "follower_farm",
    "mass_following",
    "known_commenter",
    "honeypot",
    "fast_submit",
    "copy_campaign",
    "author_burst",
    "ip_burst",
    "on_topic",
    "off_topic",
    "reported_domain",
    "new_account",
}


@pytest.fixture
def app(tmp_path, models_dir):
    """The service with checks and history written before each answer, so that
    consecutive requests see each other as they would after the 50 ms flush."""
    from service import create_app

    return create_app(
        load_settings(
            environ={}, home=tmp_path, models_dir=models_dir, check_flush_ms=0
        )
    )


def score(client, auth, body):
    response = client.post("/v1/score", json=body, headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def codes(result):
    return [r["code"] for r in result["reasons"]]


def test_follower_farm_with_generic_praise_is_spam_with_the_account_reason_first(
    client, auth
):
    result = score(client, auth, {"content": PRAISE, "author": FARM, "post": POST})
    assert result["verdict"] in ("spam", "discard")
    assert codes(result)[0] == "follower_farm"
    assert result["reasons"][0]["message"] == (
        "The account has 15,000,000 followers and 4 posts."
    )


def test_the_same_text_from_a_long_standing_commenter_is_approved(client, auth):
    result = score(client, auth, {"content": PRAISE, "author": REGULAR, "post": POST})
    assert result["verdict"] == "approve"
    assert codes(result)[0] == "known_commenter"


def test_filled_honeypot_is_spam_with_the_honeypot_reason_first(client, auth):
    body = {
        "content": "Nice recipe, I will try it this weekend.",
        "post": POST,
        "context": {"honeypot": "http://cheap.example.com"},
    }
    result = score(client, auth, body)
    assert result["verdict"] in ("spam", "discard")
    assert codes(result)[0] == "honeypot"


def test_thirty_copies_across_posts_within_minutes_turn_into_spam(client, auth):
    """The first copy is approved on its text; as copies from other authors under
    other posts pile up in the store, the later ones are spam for copy_campaign."""
    results = [
        score(
            client,
            auth,
            {
                "content": CAMPAIGN,
                "author": {"name": f"reader{i}", "ip": f"203.0.113.{i}"},
                "post": {"permalink": f"https://blog.example/post-{i}"},
            },
        )
        for i in range(30)
    ]
    assert results[0]["verdict"] == "approve"
    assert "copy_campaign" not in codes(results[0])
    for later in results[20:]:
        assert later["verdict"] in ("spam", "discard")
        assert codes(later)[0] == "copy_campaign"
    assert "29 times" in results[-1]["reasons"][0]["message"]


def test_one_author_resending_to_the_same_post_is_not_a_campaign(client, auth):
    body = {"content": CAMPAIGN, "author": REGULAR, "post": POST}
    for _ in range(5):
        result = score(client, auth, body)
    assert "copy_campaign" not in codes(result)
    assert "author_burst" not in codes(result)  # approved: burst is not a reason


def test_copies_are_counted_per_site(client, auth, engine):
    other, _ = create_key(engine, "https://other.example")
    other_auth = {"Authorization": f"Bearer {other}"}
    for i in range(10):
        score(
            client,
            auth,
            {"content": CAMPAIGN, "post": {"permalink": f"https://blog.example/{i}"}},
        )
    result = score(
        client,
        other_auth,
        {"content": CAMPAIGN, "post": {"permalink": "https://other.example/1"}},
    )
    assert result["verdict"] == "approve"
    assert "copy_campaign" not in codes(result)


def test_a_two_word_on_topic_answer_is_approved(client, auth):
    result = score(client, auth, {"content": "Wholemeal rye.", "post": POST})
    assert result["verdict"] == "approve"
    assert codes(result)[0] == "genuine_word"


def test_a_comment_with_no_metadata_is_scored_by_its_text_alone(
    client, auth, moderator
):
    from moderation.comment import Comment

    text = "Does this work on ARM? My Raspberry Pi throws a segfault on step 3."
    result = score(client, auth, {"content": text})
    alone = moderator.score(Comment(text))
    assert result["verdict"] == alone.verdict.value == "approve"
    assert result["scores"]["spam"] == pytest.approx(alone.spam, abs=1e-6)
    assert not METADATA_CODES & set(codes(result))
    assert codes(result)[0] == alone.reasons[0].code


def test_the_service_prunes_history_beyond_its_window(client, auth, engine):
    """Fingerprints older than MODERATION_HISTORY_WINDOW_SECONDS are deleted as new
    ones are written, so the table stays bounded."""
    from datetime import datetime, timedelta, timezone

    from moderation.store import RecentComment, count_recent, record_recent

    old = datetime.now(timezone.utc) - timedelta(hours=2)
    record_recent(
        engine,
        [RecentComment("k_old", f"{i:032x}", created_at=old) for i in range(50)],
    )
    assert count_recent(engine) == 50
    score(client, auth, {"content": CAMPAIGN})
    assert count_recent(engine) == 1
