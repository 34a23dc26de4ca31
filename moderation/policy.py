"""The decision policy: two scores in, one verdict out.

The model answers two statistical questions (how likely is this spam, how likely is
this low-value); the policy answers the decision question, with thresholds chosen at
training time for a target false-positive rate and overridable in configuration:

    spam >= discard    -> discard   (blatant: no held-out genuine comment scored so)
    spam >= spam       -> spam
    spam >= hold       -> hold      (unsure: a person decides; never binned)
    low_value >= low_value -> hold  (adds nothing: a person decides)
    otherwise          -> approve

Every comparison goes through ``reaches``, one place for the boundary rule: a score
equal to a threshold reaches it. This module imports nothing from scikit-learn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any

from moderation.errors import ConfigError

__all__ = ["Policy", "Rule", "SitePolicy", "Thresholds", "Verdict", "decide", "reaches"]


class Verdict(str, Enum):
    """What the engine should do with the comment; values are the wire values."""

    APPROVE = "approve"
    HOLD = "hold"
    SPAM = "spam"
    DISCARD = "discard"


class Rule(str, Enum):
    """Which part of the policy produced the verdict (drives the leading reason)."""

    DISCARD = "discard"
    SPAM = "spam"
    UNSURE = "unsure"
    LOW_VALUE = "low_value"
    CLEAN = "clean"


@dataclass(frozen=True)
class Thresholds:
    """Score thresholds; ``None`` switches a verdict off (e.g. no ``discard``).

    Attributes:
        hold: spam score from which a comment is held as unsure.
        spam: spam score from which a comment is spam.
        discard: spam score from which spam is safe to drop unseen.
        low_value: low-value score from which a comment is held as low-value.
    """

    hold: float
    spam: float
    discard: float | None = None
    low_value: float | None = None

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"threshold {name} = {value!r} must be between 0 and 1"
                )
        if self.hold > self.spam:
            raise ConfigError(
                f"threshold hold = {self.hold} is above spam = {self.spam}; "
                "an unsure comment must score below spam"
            )
        if self.discard is not None and self.discard < self.spam:
            raise ConfigError(
                f"threshold discard = {self.discard} is below spam = {self.spam}; "
                "discard is for the surest spam only"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        return cls(
            hold=float(data["hold"]),
            spam=float(data["spam"]),
            discard=None if data.get("discard") is None else float(data["discard"]),
            low_value=None
            if data.get("low_value") is None
            else float(data["low_value"]),
        )

    def override(self, **values: float | None) -> Thresholds:
        """A copy with the given thresholds replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def reaches(score: float, threshold: float | None) -> bool:
    """True when ``score`` is at or above ``threshold``; ``None`` is never reached."""
    return threshold is not None and score >= threshold


@dataclass(frozen=True)
class Policy:
    """Thresholds plus the verdicts a site allows.

    A disallowed ``discard`` falls back to ``spam``, a disallowed ``spam`` to
    ``hold``: a comment is never let through because a harsher verdict is switched
    off.
    """

    thresholds: Thresholds
    allow_discard: bool = True
    allow_spam: bool = True

    def decide(self, spam: float, low_value: float) -> tuple[Verdict, Rule]:
        """The verdict for two scores, and the rule that gave it."""
        t = self.thresholds
        if self.allow_discard and self.allow_spam and reaches(spam, t.discard):
            return Verdict.DISCARD, Rule.DISCARD
        if reaches(spam, t.spam):
            return (Verdict.SPAM if self.allow_spam else Verdict.HOLD), Rule.SPAM
        if reaches(spam, t.hold):
            return Verdict.HOLD, Rule.UNSURE
        if reaches(low_value, t.low_value):
            return Verdict.HOLD, Rule.LOW_VALUE
        return Verdict.APPROVE, Rule.CLEAN


@dataclass(frozen=True)
class SitePolicy:
    """One site's settings over the service's policy; ``None`` keeps the default.

    Attributes:
        hold, spam, discard, low_value: threshold overrides.
        target_fpr: a different false-positive target for the spam threshold,
            computed from the model's held-out scores (explicit ``spam`` wins).
        allow_discard: ``False`` never discards (spam instead).
        allow_spam: ``False`` never files as spam (hold instead).
    """

    hold: float | None = None
    spam: float | None = None
    discard: float | None = None
    low_value: float | None = None
    target_fpr: float | None = None
    allow_discard: bool | None = None
    allow_spam: bool | None = None

    def __post_init__(self) -> None:
        for name in ("hold", "spam", "discard", "low_value"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"site threshold {name} = {value!r} must be in [0, 1]"
                )
        if self.target_fpr is not None and not 0.0 < self.target_fpr < 0.5:
            raise ConfigError(
                f"site target_fpr = {self.target_fpr!r} must be between 0 and 0.5"
            )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SitePolicy:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown site policy setting {unknown[0]!r}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**data)


def decide(policy: Policy, spam: float, low_value: float) -> tuple[Verdict, Rule]:
    """Module-level form of ``Policy.decide``."""
    return policy.decide(spam, low_value)
