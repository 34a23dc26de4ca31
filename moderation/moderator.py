"""The Moderator: a verified model, compiled for speed, plus the policy and reasons.

``Moderator.score`` is the one scoring path: the CLI's ``moderation score`` and the
HTTP service's ``POST /v1/score`` both call it. It computes both scores on the compiled
model (see ``scorer``), lets the policy decide, and explains the verdict with the
evidence of the question that decided it. It holds no I/O beyond loading at start.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.artifact import LoadedModel, load_model
from moderation.comment import Comment
from moderation.explain import Reason, reasons
from moderation.policy import Policy, Rule, Thresholds, Verdict
from moderation.scorer import CompiledModel, RowCache, compile_pipeline

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

    def score(self, comment: Comment) -> Decision:
        """Score one comment: both scores, the verdict and its reasons."""
        cache = RowCache(comment.to_row())
        spam, spam_evidence = self._spam.score(cache, explain=True)
        low_value = 0.0
        if self._low_value is not None:
            low_value, _ = self._low_value.score(cache, explain=False)
        verdict, rule = self.policy.decide(spam, low_value)
        if rule is Rule.LOW_VALUE and self._low_value is not None:
            _, low_evidence = self._low_value.score(cache, explain=True)
            why = reasons(low_evidence, "low_value", towards=True)
        else:
            why = reasons(spam_evidence, "spam", towards=rule is not Rule.CLEAN)
        return Decision(verdict, rule, spam, low_value, why, self.version)

    def score_many(self, comments: Sequence[Comment]) -> list[Decision]:
        """Score several comments, in order (the batch endpoint and file scoring)."""
        return [self.score(c) for c in comments]

    def spam_scores(self, comments: Sequence[Comment]) -> list[float]:
        """Spam probabilities only, without reasons (evaluation over many comments)."""
        return [
            self._spam.score(RowCache(c.to_row()), explain=False)[0] for c in comments
        ]
