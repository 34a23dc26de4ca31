"""The Moderator: scores, verdicts and reasons, and the contract's response shape."""

from __future__ import annotations

import json
import re

import pytest

from moderation.comment import Comment
from moderation.errors import ConfigError
from moderation.explain import MAX_REASONS
from moderation.moderator import Decision, Moderator
from moderation.policy import Rule, Verdict

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

OBVIOUS_SPAM = [
    "Buy cheap followers now http://followers.example.com",
    "CLICK HERE http://bit.ly/abc earn $500 a day, WhatsApp +2348123456789",
    "Cheap pills, discount meds at http://pills.example.net buy now",
]
OBVIOUS_HAM = [
    "Does the recipe work with rye flour? Mine came out dense.",
    "Thanks, the flaxseed tip fixed my cast iron pan.",
    "The ferry timetable changed in May, the 9:15 no longer runs.",
]
GENERIC_PRAISE = [
    "Nice article, keep it up",
    "Thanks for sharing, very nice",
    "Awesome blog, thanks",
]
VARIED = OBVIOUS_SPAM + OBVIOUS_HAM + GENERIC_PRAISE + ["", "🔥🔥", "zxqv blorft"]


def test_obvious_spam_scores_above_obvious_ham(moderator):
    spam = [moderator.score(Comment(t)).spam for t in OBVIOUS_SPAM]
    ham = [moderator.score(Comment(t)).spam for t in OBVIOUS_HAM]
    assert min(spam) > max(ham)


@pytest.mark.parametrize("text", OBVIOUS_SPAM)
def test_obvious_spam_is_binned(moderator, text):
    assert moderator.score(Comment(text)).verdict in (Verdict.SPAM, Verdict.DISCARD)


@pytest.mark.parametrize("text", OBVIOUS_HAM)
def test_obvious_ham_is_approved_with_genuine_reasons(moderator, text):
    decision = moderator.score(Comment(text))
    assert (decision.verdict, decision.rule) == (Verdict.APPROVE, Rule.CLEAN)
    codes = [r.code for r in decision.reasons]
    assert any(code.startswith("genuine_") for code in codes), codes
    assert not any(code.startswith(("spam_", "low_value_")) for code in codes), codes


@pytest.mark.parametrize("text", GENERIC_PRAISE)
def test_generic_praise_is_held_as_low_value_with_low_value_reasons(moderator, text):
    decision = moderator.score(Comment(text))
    assert (decision.verdict, decision.rule) == (Verdict.HOLD, Rule.LOW_VALUE)
    assert decision.low_value >= moderator.thresholds.low_value
    codes = [r.code for r in decision.reasons]
    assert any(code.startswith("low_value_") for code in codes), codes
    assert not any(code.startswith(("spam_", "genuine_")) for code in codes), codes


@pytest.mark.parametrize("text", VARIED)
def test_reasons_are_strongest_first_at_most_five_with_snake_case_codes(
    moderator, text
):
    reasons = moderator.score(Comment(text)).reasons
    assert len(reasons) <= MAX_REASONS == 5
    weights = [r.weight for r in reasons]
    assert weights == sorted(weights, reverse=True)
    assert all(w > 0 for w in weights)
    for reason in reasons:
        assert SNAKE_CASE.match(reason.code), reason.code
        assert reason.message.endswith("."), reason.message
        assert "xurlx" not in reason.message and "__" not in reason.message


def test_spam_reasons_name_the_evidence(moderator):
    decision = moderator.score(Comment(OBVIOUS_SPAM[0]))
    codes = {r.code for r in decision.reasons}
    assert codes & {"links", "link_density", "spam_word", "spam_phrase", "many_domains"}


def test_decision_to_dict_has_the_contract_response_shape(moderator):
    body = moderator.score(Comment(OBVIOUS_SPAM[1])).to_dict()
    assert set(body) == {"id", "verdict", "scores", "reasons", "model"}
    assert isinstance(body["id"], str) and body["id"]
    assert body["verdict"] in {"approve", "hold", "spam", "discard"}
    assert set(body["scores"]) == {"spam", "low_value"}
    assert all(0.0 <= v <= 1.0 for v in body["scores"].values())
    assert body["reasons"]
    for reason in body["reasons"]:
        assert set(reason) == {"code", "message", "weight"}
        assert isinstance(reason["code"], str)
        assert isinstance(reason["message"], str)
        assert isinstance(reason["weight"], float)
    assert body["model"] == moderator.version
    assert json.loads(json.dumps(body)) == body


def test_each_decision_has_its_own_id(moderator):
    ids = {moderator.score(Comment("same text")).id for _ in range(5)}
    assert len(ids) == 5


def test_score_many_keeps_order_and_spam_scores_match(moderator):
    comments = [Comment(t) for t in VARIED]
    decisions = moderator.score_many(comments)
    assert all(isinstance(d, Decision) for d in decisions)
    assert [d.spam for d in decisions] == moderator.spam_scores(comments)
    assert [d.spam for d in decisions] == [moderator.score(c).spam for c in comments]


def test_threshold_overrides_change_the_verdict(models_dir):
    text = OBVIOUS_HAM[0]
    lenient = Moderator.load(models_dir)
    strict = Moderator.load(
        models_dir,
        thresholds={"hold": 0.0, "spam": 0.0, "discard": 0.0, "low_value": None},
    )
    assert lenient.score(Comment(text)).verdict is Verdict.APPROVE
    assert strict.score(Comment(text)).verdict is Verdict.DISCARD
    assert strict.thresholds.low_value == lenient.thresholds.low_value


def test_allow_discard_false_never_discards(models_dir):
    moderator = Moderator.load(models_dir, allow_discard=False)
    verdicts = {moderator.score(Comment(t)).verdict for t in OBVIOUS_SPAM}
    assert Verdict.DISCARD not in verdicts
    assert Verdict.SPAM in verdicts


def test_inconsistent_threshold_override_is_a_config_error(models_dir):
    with pytest.raises(ConfigError, match="hold"):
        Moderator.load(models_dir, thresholds={"hold": 0.99, "spam": 0.5})


def test_moderator_uses_the_current_version(models_dir, moderator):
    assert moderator.version == (models_dir / "CURRENT").read_text().strip()


def test_punctuation_alone_is_never_a_reason(moderator):
    """Reasons name words, phrases, emoji or signals, never a bare '.' or ','."""
    decision = moderator.score(Comment("Thanks, this fixed my build. Really, it did."))
    for reason in decision.reasons:
        assert "“.”" not in reason.message and "“,”" not in reason.message
