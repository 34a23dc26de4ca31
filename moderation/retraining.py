"""The learning loop's core: moderators' feedback -> a candidate model -> a guarded
promotion.

``feedback_data`` turns stored feedback into labelled comments: the latest label per
check wins, texts labelled both ways are reported and left out (not silently
resolved), and no single key or IP may contribute more than a set share of the labels
(a guard against poisoning). ``retrain`` builds a candidate from the base corpus plus
that feedback plus extra files, keeps a held-out part of it, writes the candidate
without making it current, and compares it with the current model on the same held-out
comments. ``promote`` makes a version current only if, on its held-out comments, it
flags no more genuine comments and catches no less spam at the target FPR than the
current model (within a tolerance), unless forced; ``rollback`` returns to the
previous version.

This module does not talk to the store or print; the CLI passes feedback rows in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from moderation.artifact import (
    current_version,
    list_versions,
    load_model,
    save_model,
    set_current,
)
from moderation.comment import Comment, Label, parse_label
from moderation.dataset import LabelledData, data_files, load_labelled
from moderation.errors import ArtifactError, DataError, InvalidComment
from moderation.evaluation import binary_metrics, recall_at_fpr
from moderation.moderator import Moderator
from moderation.text import normalise
from moderation.training import TrainingOptions, train

__all__ = [
    "Comparison",
    "FeedbackReport",
    "RetrainResult",
    "compare_on",
    "feedback_data",
    "promote",
    "retrain",
    "rollback",
]

HOLDOUT_FILE = "holdout.jsonl"
HISTORY_FILE = "HISTORY"


@dataclass
class FeedbackReport:
    """What became of the feedback rows."""

    rows: int = 0
    used: int = 0
    without_content: int = 0
    superseded: int = 0
    conflicting_texts: list[str] = field(default_factory=list)
    capped_sources: dict[str, int] = field(default_factory=dict)


def feedback_data(
    rows: Iterable[dict[str, Any]], max_share: float = 0.2
) -> tuple[LabelledData, FeedbackReport]:
    """Labelled comments from stored feedback (``store.export_feedback`` rows).

    Args:
        rows: feedback, oldest first, with ``label``, ``check_id``, ``content`` and,
            for the guard, ``key_id`` / ``ip``.
        max_share: most of the labels one key or IP may contribute (0-1].

    Returns:
        The labelled comments and a report of what was dropped and why.
    """
    report = FeedbackReport()
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        report.rows += 1
        if not row.get("content"):
            report.without_content += 1
            continue
        key = row.get("check_id") or "text:" + normalise(
            str(row["content"].get("content", ""))
        )
        if key in latest:
            report.superseded += 1
        latest[key] = row  # rows come oldest first: the latest label wins
    by_text: dict[str, set[str]] = {}
    for row in latest.values():
        by_text.setdefault(
            normalise(str(row["content"].get("content", ""))), set()
        ).add(row["label"])
    conflicts = {t for t, labels in by_text.items() if len(labels) > 1}
    report.conflicting_texts = sorted(conflicts)
    kept = [
        r
        for r in latest.values()
        if normalise(str(r["content"].get("content", ""))) not in conflicts
    ]
    # Poisoning guard: one source (key, else IP) keeps at most max_share of the labels,
    # its most recent ones.
    limit = max(1, int(max_share * len(kept)))
    per_source: Counter[str] = Counter()
    guarded = []
    for row in reversed(kept):
        source = str(row.get("key_id") or row.get("ip") or "unknown")
        per_source[source] += 1
        if per_source[source] > limit:
            report.capped_sources[source] = report.capped_sources.get(source, 0) + 1
            continue
        guarded.append(row)
    data = LabelledData()
    for row in reversed(guarded):
        try:
            comment = Comment.from_dict(row["content"])
            label = parse_label(row["label"])
        except (InvalidComment, ValueError):
            continue
        data.comments.append(comment)
        data.labels.append(label)
        data.sources.append("feedback")
    report.used = len(data)
    return data, report


@dataclass
class Comparison:
    """Two models on the same held-out comments."""

    version: str
    metrics: dict[str, Any]

    @property
    def fpr(self) -> float:
        return float(self.metrics.get("fpr") or 0.0)

    @property
    def recall_at_target(self) -> float:
        value = self.metrics.get("recall_at_target_fpr")
        return float(value) if value is not None else 0.0


def compare_on(
    moderator: Moderator, data: LabelledData, target_fpr: float
) -> Comparison:
    """A model's figures on labelled comments: the evaluate figures plus spam recall
    at ``target_fpr``."""
    scores = moderator.spam_scores(data.comments)
    y = [int(label is Label.SPAM) for label in data.labels]
    metrics = binary_metrics(y, scores, moderator.thresholds.spam)
    metrics["recall_at_target_fpr"] = (
        recall_at_fpr(y, scores, target_fpr) if 0 < sum(y) < len(y) else None
    )
    metrics["target_fpr"] = target_fpr
    return Comparison(moderator.version, metrics)


@dataclass
class RetrainResult:
    """A candidate written next to the current model, with both on the same holdout."""

    candidate: Path
    candidate_metrics: Comparison
    current_metrics: Comparison | None
    feedback: FeedbackReport
    new_comments: int
    holdout: int


def retrain(
    models_dir: Path,
    base: Sequence[str | Path],
    feedback: LabelledData,
    extra: Sequence[str | Path] = (),
    report: FeedbackReport | None = None,
    options: TrainingOptions | None = None,
    min_new: int = 20,
    holdout_share: float = 0.2,
    progress: Callable[[str], None] | None = None,
) -> RetrainResult:
    """Train a candidate on base + feedback + extra; compare it with the current model.

    Raises:
        DataError: fewer than ``min_new`` new labelled comments (feedback plus extra),
            or unreadable files.
    """
    options = options or TrainingOptions()
    new = LabelledData()
    new.extend(feedback)
    if extra:
        new.extend(load_labelled(list(extra)))
    if len(new) < min_new:
        raise DataError(
            f"only {len(new)} new labelled comments (feedback and extra files); "
            f"a new model needs at least {min_new}, so the current one stays"
        )
    data = load_labelled(data_files(list(base)))
    data.extend(new)
    y = np.array([label is Label.SPAM for label in data.labels])
    groups: dict[str, int] = {}
    g = np.array(
        [groups.setdefault(normalise(c.content), len(groups)) for c in data.comments]
    )
    folds = max(2, round(1 / holdout_share))
    split = StratifiedGroupKFold(folds, shuffle=True, random_state=options.seed)
    train_idx, test_idx = next(split.split(data.comments, y, g))
    model = train(
        [data.comments[i] for i in train_idx],
        [data.labels[i] for i in train_idx],
        options,
        progress,
    )
    holdout = LabelledData(
        [data.comments[i] for i in test_idx],
        [data.labels[i] for i in test_idx],
        [data.sources[i] for i in test_idx],
    )
    previous = current_version(models_dir)
    path = save_model(
        model,
        models_dir,
        {
            "files": sorted(set(data.sources)),
            "sha256": data.digest(),
            "n": len(data),
            "new_comments": len(new),
        },
        make_current=False,
    )
    _write_holdout(path / HOLDOUT_FILE, holdout)
    candidate = compare_on(
        Moderator.load(models_dir, path.name), holdout, options.target_fpr
    )
    current = (
        compare_on(Moderator.load(models_dir, previous), holdout, options.target_fpr)
        if previous
        else None
    )
    return RetrainResult(
        path, candidate, current, report or FeedbackReport(), len(new), len(holdout)
    )


@dataclass
class PromotionCheck:
    candidate: Comparison
    current: Comparison | None
    problems: list[str]


def check_promotion(
    models_dir: Path, version: str, tolerance: float = 0.01, target_fpr: float = 0.005
) -> PromotionCheck:
    """Compare ``version`` with the current model on the candidate's held-out comments.

    A problem is listed when the candidate flags more genuine comments (FPR at its own
    threshold) or catches less spam at ``target_fpr`` than the current model, beyond
    ``tolerance``; or when the candidate has no held-out comments to be judged on.
    """
    path = models_dir / version
    if version not in list_versions(models_dir):
        raise ArtifactError(f"no model version {version!r} in {models_dir}")
    candidate_model = Moderator.load(models_dir, version)
    holdout_path = path / HOLDOUT_FILE
    if not holdout_path.exists():
        return PromotionCheck(
            Comparison(version, {}),
            None,
            [
                f"{version} has no held-out comments to compare on (it was not "
                "built by 'moderation retrain'); use --force to promote it anyway"
            ],
        )
    holdout = load_labelled([holdout_path])
    candidate = compare_on(candidate_model, holdout, target_fpr)
    previous = current_version(models_dir)
    if previous is None or previous == version:
        return PromotionCheck(candidate, None, [])
    current = compare_on(Moderator.load(models_dir, previous), holdout, target_fpr)
    problems = []
    if candidate.fpr > current.fpr + tolerance:
        problems.append(
            f"flags {candidate.fpr:.3%} of genuine comments against the current "
            f"model's {current.fpr:.3%}"
        )
    if candidate.recall_at_target < current.recall_at_target - tolerance:
        problems.append(
            f"catches {candidate.recall_at_target:.1%} of spam at {target_fpr:.1%} FPR "
            f"against the current model's {current.recall_at_target:.1%}"
        )
    return PromotionCheck(candidate, current, problems)


def promote(
    models_dir: Path,
    version: str,
    force: bool = False,
    tolerance: float = 0.01,
    target_fpr: float = 0.005,
) -> PromotionCheck:
    """Make ``version`` current if it is no worse than the current model (or forced).

    Raises:
        ArtifactError: the version does not exist or fails verification, or the
            guard refuses it (the message says why and mentions ``--force``).
    """
    # check_promotion loads (and so verifies) the candidate before anything else.
    check = check_promotion(models_dir, version, tolerance, target_fpr)
    if check.problems and not force:
        raise ArtifactError(
            f"{version} is worse than the current model on its held-out comments: "
            + "; ".join(check.problems)
            + " (use --force to promote it anyway)"
        )
    previous = current_version(models_dir)
    set_current(models_dir, version)
    if previous and previous != version:
        with (models_dir / HISTORY_FILE).open("a", encoding="utf-8") as fh:
            fh.write(previous + "\n")
    return check


def rollback(models_dir: Path) -> str:
    """Make the version that was current before the last promotion current again.

    Returns:
        The version now current.

    Raises:
        ArtifactError: there is no earlier version to return to.
    """
    path = models_dir / HISTORY_FILE
    history = path.read_text(encoding="utf-8").split() if path.exists() else []
    while history:
        version = history.pop()
        if version in list_versions(models_dir) and version != current_version(
            models_dir
        ):
            load_model(models_dir, version)
            set_current(models_dir, version)
            path.write_text("".join(v + "\n" for v in history), encoding="utf-8")
            return version
    raise ArtifactError(f"no earlier model version to roll back to in {models_dir}")


def _write_holdout(path: Path, data: LabelledData) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for comment, label in zip(data.comments, data.labels, strict=True):
            record = comment.to_dict()
            record["label"] = label.value
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
