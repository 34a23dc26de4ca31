"""The decision policy: every threshold edge, switched-off verdicts, validation."""

from __future__ import annotations

import math

import pytest

from moderation.errors import ConfigError
from moderation.policy import Policy, Rule, Thresholds, Verdict, decide, reaches

T = Thresholds(hold=0.4, spam=0.7, discard=0.95, low_value=0.6)
POLICY = Policy(T)


def below(x: float) -> float:
    return math.nextafter(x, -math.inf)


def above(x: float) -> float:
    return math.nextafter(x, math.inf)


@pytest.mark.parametrize(
    ("spam", "verdict", "rule"),
    [
        (below(T.hold), Verdict.APPROVE, Rule.CLEAN),
        (T.hold, Verdict.HOLD, Rule.UNSURE),
        (above(T.hold), Verdict.HOLD, Rule.UNSURE),
        (below(T.spam), Verdict.HOLD, Rule.UNSURE),
        (T.spam, Verdict.SPAM, Rule.SPAM),
        (above(T.spam), Verdict.SPAM, Rule.SPAM),
        (below(T.discard), Verdict.SPAM, Rule.SPAM),
        (T.discard, Verdict.DISCARD, Rule.DISCARD),
        (above(T.discard), Verdict.DISCARD, Rule.DISCARD),
        (1.0, Verdict.DISCARD, Rule.DISCARD),
        (0.0, Verdict.APPROVE, Rule.CLEAN),
    ],
)
def test_spam_score_edges(spam, verdict, rule):
    """A score equal to a threshold reaches it; one just below does not."""
    assert POLICY.decide(spam, 0.0) == (verdict, rule)


@pytest.mark.parametrize(
    ("low_value", "verdict", "rule"),
    [
        (below(T.low_value), Verdict.APPROVE, Rule.CLEAN),
        (T.low_value, Verdict.HOLD, Rule.LOW_VALUE),
        (above(T.low_value), Verdict.HOLD, Rule.LOW_VALUE),
        (1.0, Verdict.HOLD, Rule.LOW_VALUE),
    ],
)
def test_low_value_score_edges(low_value, verdict, rule):
    assert POLICY.decide(0.0, low_value) == (verdict, rule)


@pytest.mark.parametrize(
    ("spam", "verdict", "rule"),
    [
        (T.hold, Verdict.HOLD, Rule.UNSURE),
        (T.spam, Verdict.SPAM, Rule.SPAM),
        (T.discard, Verdict.DISCARD, Rule.DISCARD),
    ],
)
def test_spam_rules_win_over_low_value(spam, verdict, rule):
    """A spammy comment that is also generic is judged as spam (or unsure), not
    low-value."""
    assert POLICY.decide(spam, 1.0) == (verdict, rule)


def test_unsure_is_held_never_binned():
    verdict, _ = POLICY.decide(below(T.spam), 0.0)
    assert verdict is Verdict.HOLD


@pytest.mark.parametrize("spam", [T.spam, 0.99, 1.0])
def test_discard_none_never_discards(spam):
    policy = Policy(Thresholds(hold=0.4, spam=0.7, discard=None))
    assert policy.decide(spam, 0.0) == (Verdict.SPAM, Rule.SPAM)


def test_low_value_none_never_holds_as_low_value():
    policy = Policy(Thresholds(hold=0.4, spam=0.7))
    assert policy.decide(0.0, 1.0) == (Verdict.APPROVE, Rule.CLEAN)


@pytest.mark.parametrize("spam", [T.discard, above(T.discard), 1.0])
def test_disallowed_discard_becomes_spam(spam):
    """Switching discard off never lets a comment through: it falls back to spam."""
    policy = Policy(T, allow_discard=False)
    assert policy.decide(spam, 0.0) == (Verdict.SPAM, Rule.SPAM)


def test_disallowed_discard_keeps_the_other_verdicts():
    policy = Policy(T, allow_discard=False)
    assert policy.decide(T.hold, 0.0) == (Verdict.HOLD, Rule.UNSURE)
    assert policy.decide(0.0, T.low_value) == (Verdict.HOLD, Rule.LOW_VALUE)
    assert policy.decide(0.0, 0.0) == (Verdict.APPROVE, Rule.CLEAN)


def test_equal_thresholds_go_to_the_harshest_verdict():
    policy = Policy(Thresholds(hold=0.9, spam=0.9, discard=0.9))
    assert policy.decide(0.9, 0.0) == (Verdict.DISCARD, Rule.DISCARD)
    assert policy.decide(below(0.9), 0.0) == (Verdict.APPROVE, Rule.CLEAN)


def test_module_level_decide_is_policy_decide():
    assert decide(POLICY, 0.8, 0.0) == POLICY.decide(0.8, 0.0)


def test_reaches_is_inclusive_and_none_is_never_reached():
    assert reaches(0.5, 0.5)
    assert not reaches(below(0.5), 0.5)
    assert not reaches(1.0, None)


def test_verdict_and_rule_values_are_wire_values():
    assert [v.value for v in Verdict] == ["approve", "hold", "spam", "discard"]
    assert Verdict.HOLD == "hold"
    assert Rule.LOW_VALUE == "low_value"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hold": 0.8, "spam": 0.7}, "hold = 0.8 is above spam = 0.7"),
        (
            {"hold": 0.4, "spam": 0.7, "discard": 0.6},
            "discard = 0.6 is below spam = 0.7",
        ),
        ({"hold": -0.1, "spam": 0.7}, "hold = -0.1 must be between 0 and 1"),
        ({"hold": 0.4, "spam": 1.5}, "spam = 1.5 must be between 0 and 1"),
        ({"hold": 0.4, "spam": 0.7, "discard": 1.01}, "discard = 1.01 must be between"),
        (
            {"hold": 0.4, "spam": 0.7, "low_value": -0.5},
            "low_value = -0.5 must be between",
        ),
        (
            {"hold": 0.4, "spam": 0.7, "low_value": 2.0},
            "low_value = 2.0 must be between",
        ),
    ],
)
def test_invalid_thresholds_are_refused_naming_the_value(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Thresholds(**kwargs)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_thresholds_are_refused(bad):
    with pytest.raises(ConfigError):
        Thresholds(hold=0.4, spam=0.7, low_value=bad)


def test_boundary_thresholds_zero_and_one_are_valid():
    t = Thresholds(hold=0.0, spam=1.0, discard=1.0, low_value=0.0)
    assert Policy(t).decide(0.0, 0.0) == (Verdict.HOLD, Rule.UNSURE)


def test_thresholds_round_trip_through_dict():
    assert Thresholds.from_dict(T.to_dict()) == T
    assert Thresholds.from_dict({"hold": 0.4, "spam": 0.7}) == Thresholds(0.4, 0.7)


def test_override_replaces_given_values_and_ignores_none():
    t = T.override(spam=0.8, discard=None)
    assert t == Thresholds(hold=0.4, spam=0.8, discard=0.95, low_value=0.6)


def test_override_is_validated():
    with pytest.raises(ConfigError, match="hold"):
        T.override(hold=0.9)
