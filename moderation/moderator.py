"""The Moderator: a verified model, compiled for speed, plus the policy and reasons.

``Moderator.score`` is the one scoring path: the CLI's ``moderation score`` and the
HTTP service's ``POST /v1/score`` both call it. It computes both scores on the compiled
model (see ``scorer``), lets the policy decide, and explains the verdict with the
evidence of the question that decided it. It holds no I/O beyond loading at start.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.artifact import LoadedModel, load_model
from moderation.comment import Comment
from moderation.errors import ConfigError
from moderation.explain import Reason, reasons
from moderation.policy import Policy, Rule, SitePolicy, Thresholds, Verdict
from moderation.scorer import CompiledModel, RowCache, compile_pipeline
from moderation.training import spam_threshold_at

__all__ = ["Decision", "Moderator"]


@dataclass(frozen=True)
class Decision:
    """A scored comment: the contract's score response."""

    verdict: Verdict
    rule: Rule
    spam: float
    low_value: float
    reasons: list[Reason]
    model: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "scores": {
                "spam": round(self.spam, 6),
                "low_value": round(self.low_value, 6),
            },
            "reasons": [r.to_dict() for r in self.reasons],
            "model": self.model,
        }


class Moderator:
    """Scores comments with one loaded model and one policy.

    Args:
        model: a verified ``LoadedModel``.
        thresholds: overrides of the model's own thresholds (``None`` keeps them).
        allow_discard: ``False`` turns every ``discard`` into ``spam``.
    """

    def __init__(
        self,
        model: LoadedModel,
        thresholds: dict[str, float | None] | None = None,
        allow_discard: bool = True,
    ) -> None:
        self.model = model
        self.version = model.version
        self.policy = Policy(
            model.thresholds.override(**(thresholds or {})), allow_discard=allow_discard
        )
        self._spam: CompiledModel = compile_pipeline(model.spam)
        self._low_value: CompiledModel | None = (
            compile_pipeline(model.low_value) if model.low_value is not None else None
        )

    @classmethod
    def load(
        cls, models_dir: Path, version: str | None = None, **policy: Any
    ) -> Moderator:
        """Load and verify a model version (default: current) and build a Moderator."""
        return cls(load_model(models_dir, version), **policy)

    @property
    def thresholds(self) -> Thresholds:
        return self.policy.thresholds

    def policy_for(self, site: SitePolicy | None) -> Policy:
        """The policy for one site: the service's, with the site's settings over it.

        Raises:
            ConfigError: the site's settings contradict each other (hold above spam)
                or ask for a target FPR the model's held-out scores cannot serve.
        """
        if site is None:
            return self.policy
        t = self.policy.thresholds
        if site.target_fpr is not None:
            spam = spam_threshold_at(
                self.model.manifest.get("held_out", {}), site.target_fpr
            )
            if spam is None:
                raise ConfigError(
                    f"target_fpr {site.target_fpr} is beyond what this model's "
                    "held-out scores can set; choose a smaller one or set the spam "
                    "threshold"
                )
            discard = None if t.discard is None else max(t.discard, spam)
            t = Thresholds(
                hold=min(t.hold, spam),
                spam=spam,
                discard=discard,
                low_value=t.low_value,
            )
        # Thresholds the site does not set follow the ones it does, so the order
        # hold <= spam <= discard holds; values the site sets itself must agree.
        spam = site.spam if site.spam is not None else t.spam
        hold = site.hold if site.hold is not None else min(t.hold, spam)
        discard = site.discard
        if discard is None and t.discard is not None:
            discard = max(t.discard, spam)
        t = Thresholds(
            hold=hold,
            spam=spam,
            discard=discard,
            low_value=site.low_value if site.low_value is not None else t.low_value,
        )
        return Policy(
            t,
            allow_discard=self.policy.allow_discard
            if site.allow_discard is None
            else site.allow_discard,
            allow_spam=self.policy.allow_spam
            if site.allow_spam is None
            else site.allow_spam,
        )

    def score(
        self,
        comment: Comment,
        history: Mapping[str, int] | None = None,
        policy: Policy | None = None,
    ) -> Decision:
        """Score one comment: both scores, the verdict and its reasons.

        Args:
            comment: the comment.
            history: recent-history counts from the store (``history_copies``,
                ``history_author_burst``, ``history_ip_burst``,
                ``history_spam_domains``); absent means none known.
            policy: a site's policy (``policy_for``); default the service's.
        """
        row = comment.to_row()
        if history:
            row.update(history)
        cache = RowCache(row)
        spam, spam_evidence = self._spam.score(cache, explain=True)
        low_value = 0.0
        if self._low_value is not None:
            low_value, _ = self._low_value.score(cache, explain=False)
        verdict, rule = (policy or self.policy).decide(spam, low_value)
        if rule is Rule.LOW_VALUE and self._low_value is not None:
            _, low_evidence = self._low_value.score(cache, explain=True)
            why = reasons(low_evidence, "low_value", towards=True, row=cache.row)
        else:
            why = reasons(
                spam_evidence, "spam", towards=rule is not Rule.CLEAN, row=cache.row
            )
        return Decision(verdict, rule, spam, low_value, why, self.version)

    def score_many(self, comments: Sequence[Comment]) -> list[Decision]:
        """Score several comments, in order (the batch endpoint and file scoring)."""
        return [self.score(c) for c in comments]

    def spam_scores(self, comments: Sequence[Comment]) -> list[float]:
        """Spam probabilities only, without reasons (evaluation over many comments)."""
        return [
            self._spam.score(RowCache(c.to_row()), explain=False)[0] for c in comments
        ]
