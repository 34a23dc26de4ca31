"""Account, author, behaviour and relevance signals (issue 4): values, neutrality when
missing, prior weights for untaught signals, reasons with real numbers, site policy."""

from __future__ import annotations

import math

import pytest

from moderation.comment import Comment
from moderation.errors import ConfigError
from moderation.features import (
    METADATA_NAMES,
    METADATA_PRIORS,
    metadata_signals,
)
from moderation.policy import Rule, SitePolicy, Verdict

FARM = {
    "name": "Grow Your Followers Fast Today",
    "url": "http://bit.ly/growfast",
    "followers": 15_000_000,
    "following": 7_500,
    "posts": 4,
    "account_age_days": 1,
}
PRAISE = "Great article, very informative, thanks for sharing!"
POST = {
    "title": "Feeding a rye sourdough starter",
    "text": "Feed the rye starter twice a day.",
}


def signals(**row) -> dict[str, float]:
    return {
        k: v for k, v in zip(METADATA_NAMES, metadata_signals(row), strict=True) if v
    }


def test_missing_metadata_gives_no_signal_at_all():
    """A comment with no author, post or context fields is neutral: all signals 0."""
    assert signals(content="Buy pills http://x.example.com") == {}


def test_follower_farm_account_raises_its_signals():
    """15M followers, 4 posts, following 7,500: followers-per-post, mass following."""
    s = signals(
        content="follow me",
        author_followers=15_000_000,
        author_posts=4,
        author_following=7_500,
        author_account_age_days=1,
    )
    assert s["account__followers_per_post"] == pytest.approx(
        math.log10(15_000_001) - math.log10(5)
    )
    assert s["account__following_many"] > 0.8
    assert "account__new_with_links" not in s  # no link in the content


def test_new_account_pushing_links_and_fast_submit_and_honeypot():
    s = signals(
        content="see http://x.example.com",
        author_account_age_days=0,
        context_seconds_to_submit=1.0,
        context_honeypot="http://spam.example",
    )
    assert s["account__new_with_links"] == 1.0
    assert s["behaviour__fast_submit"] == pytest.approx(0.9)
    assert s["behaviour__honeypot"] == 1.0


def test_relevance_needs_the_post_and_tells_specific_from_generic():
    """Without a post: no relevance signal. With one: praise shares nothing, a short
    answer naming the post's subject shares its stems."""
    assert signals(content=PRAISE) == {}
    generic = signals(content=PRAISE, post_title=POST["title"], post_text=POST["text"])
    assert generic == {"relevance__no_shared_words": 1.0}
    specific = signals(content="Rye starters!", post_title=POST["title"])
    assert specific["relevance__shared_words"] > 0
    assert "relevance__no_shared_words" not in specific


def test_priors_cover_only_named_signals():
    for question, priors in METADATA_PRIORS.items():
        assert set(priors) <= set(METADATA_NAMES), question


def test_untaught_signals_carry_their_prior_weight(trained_model):
    """The mini-corpus has no account data: those signals get the documented priors,
    and the manifest-bound record says so."""
    assert "behaviour__honeypot" in trained_model.priors["spam"]
    features = trained_model.spam.named_steps["features"]
    names = list(features.get_feature_names_out())
    estimator = (
        trained_model.spam.named_steps["classifier"]
        .calibrated_classifiers_[0]
        .estimator
    )
    weight = features.transformer_weights["metadata"]
    coef = estimator.coef_[0, names.index("metadata__behaviour__honeypot")] * weight
    assert coef == pytest.approx(METADATA_PRIORS["spam"]["behaviour__honeypot"])


def test_follower_farm_with_generic_praise_is_caught_with_the_account_reason_first(
    moderator,
):
    decision = moderator.score(
        Comment.from_dict({"content": PRAISE, "author": FARM, "post": POST})
    )
    assert decision.verdict in (Verdict.SPAM, Verdict.DISCARD, Verdict.HOLD)
    assert decision.reasons[0].code == "follower_farm"
    assert decision.reasons[0].message == (
        "The account has 15,000,000 followers and 4 posts."
    )


def test_the_same_text_from_a_long_standing_commenter_scores_lower(moderator):
    regular = {
        "name": "Ana",
        "approved_comments": 40,
        "account_age_days": 2000,
        "followers": 80,
        "posts": 300,
    }
    farm = moderator.score(Comment.from_dict({"content": PRAISE, "author": FARM}))
    known = moderator.score(Comment.from_dict({"content": PRAISE, "author": regular}))
    assert known.spam < farm.spam


def test_filled_honeypot_is_spam_with_the_honeypot_reason(moderator):
    decision = moderator.score(
        Comment.from_dict(
            {
                "content": "Nice recipe, I will try it this weekend.",
                "context": {"honeypot": "http://cheap.example.com"},
            }
        )
    )
    assert decision.verdict in (Verdict.SPAM, Verdict.DISCARD)
    assert decision.reasons[0].code == "honeypot"


def test_copy_campaign_history_raises_the_score(moderator):
    comment = Comment("Wonderful insights, I learned a lot from this.")
    alone = moderator.score(comment)
    flooded = moderator.score(comment, history={"history_copies": 30})
    assert flooded.spam > alone.spam
    assert any(r.code == "copy_campaign" for r in flooded.reasons)
    assert "30 times" in next(
        r.message for r in flooded.reasons if r.code == "copy_campaign"
    )


def test_site_policy_can_switch_off_discard_and_spam(moderator):
    spam = Comment("Buy cheap followers now http://followers.example.com !!!")
    no_discard = moderator.policy_for(SitePolicy(allow_discard=False))
    never_spam = moderator.policy_for(SitePolicy(allow_spam=False))
    assert moderator.score(spam, policy=no_discard).verdict in (
        Verdict.SPAM,
        Verdict.HOLD,
    )
    held = moderator.score(spam, policy=never_spam)
    assert held.verdict is Verdict.HOLD and held.rule in (Rule.SPAM, Rule.UNSURE)


def test_site_policy_thresholds_and_target_fpr(moderator):
    strict = moderator.policy_for(SitePolicy(spam=0.99, hold=0.2))
    assert strict.thresholds.spam == 0.99 and strict.thresholds.hold == 0.2
    wider = moderator.policy_for(SitePolicy(target_fpr=0.2))
    assert (
        wider.thresholds.spam <= moderator.thresholds.spam
        or wider.thresholds.spam == 0.5
    )
    with pytest.raises(ConfigError):
        moderator.policy_for(SitePolicy(hold=0.9, spam=0.6))
    with pytest.raises(ConfigError):
        SitePolicy(target_fpr=0.7)
    with pytest.raises(ConfigError, match="unknown site policy setting"):
        SitePolicy.from_dict({"spam": 0.9, "colour": "red"})
