"""Whole operations shared by the front-ends: train and save, evaluate files.

Each function composes the library's parts (``dataset``, ``training``, ``artifact``,
``moderator``, ``evaluation``) for one command, so that the CLI and the service only
parse arguments and print. Nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.artifact import current_version, save_model
from moderation.comment import Label
from moderation.dataset import data_files, load_labelled
from moderation.errors import DataError
from moderation.evaluation import binary_metrics
from moderation.moderator import Moderator
from moderation.training import TrainedModel, TrainingOptions, train

__all__ = [
    "Evaluation",
    "Replay",
    "ensure_model",
    "evaluate_files",
    "replay_files",
    "train_files",
]


def train_files(
    paths: Sequence[str | Path],
    models_dir: Path,
    text_col: str = "content",
    label_col: str = "label",
    options: TrainingOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, TrainedModel]:
    """Load labelled files, train, write a new model version and make it current.

    Returns:
        The new version's directory and the trained model.

    Raises:
        DataError: unreadable data or too few labelled comments.
        ArtifactError: the model cannot be written.
    """
    files = data_files(paths)
    data = load_labelled(files, text_col=text_col, label_col=label_col)
    if not len(data):
        raise DataError("the training files hold no labelled comments")
    model = train(data.comments, data.labels, options=options, progress=progress)
    summary = {
        "files": [f.name for f in files],
        "sha256": data.digest(),
        "n": len(data),
    }
    return save_model(model, models_dir, summary), model


def ensure_model(
    models_dir: Path,
    training_data: Path,
    options: TrainingOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """The current model version, training the default model first if there is none."""
    version = current_version(models_dir)
    if version is None:
        path, _ = train_files(
            [training_data], models_dir, options=options, progress=progress
        )
        version = path.name
    return version


@dataclass
class Evaluation:
    """What ``moderation evaluate`` reports."""

    model: str
    files: list[str]
    spam: dict[str, Any]
    verdicts: dict[str, int]
    per_source: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "files": self.files,
            "spam": self.spam,
            "verdicts": self.verdicts,
            "per_source": self.per_source,
        }


def evaluate_files(
    moderator: Moderator,
    paths: Sequence[str | Path],
    text_col: str = "content",
    label_col: str = "label",
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Score labelled files with a model; spam-vs-not-spam figures at its own threshold.

    Args:
        moderator: the model and policy to evaluate.
        paths: labelled files or folders.
        text_col: column or key of the text.
        label_col: column or key of the label.
        progress: called with the number of comments scored so far, now and then.

    Returns:
        The ``Evaluation``: overall figures, verdict counts and a per-file breakdown.
    """
    data = load_labelled(paths, text_col=text_col, label_col=label_col)
    if not len(data):
        raise DataError("the evaluation files hold no labelled comments")
    decisions = []
    for i, comment in enumerate(data.comments, start=1):
        decisions.append(moderator.score(comment))
        if progress is not None and (i % 200 == 0 or i == len(data)):
            progress(i)
    y = [int(label is Label.SPAM) for label in data.labels]
    scores = [d.spam for d in decisions]
    threshold = moderator.thresholds.spam
    per_source: dict[str, dict[str, Any]] = {}
    for source in dict.fromkeys(data.sources):
        idx = [i for i, s in enumerate(data.sources) if s == source]
        per_source[source] = binary_metrics(
            [y[i] for i in idx], [scores[i] for i in idx], threshold
        )
    return Evaluation(
        model=moderator.version,
        files=list(dict.fromkeys(data.sources)),
        spam=binary_metrics(y, scores, threshold),
        verdicts=dict(Counter(d.verdict.value for d in decisions)),
        per_source=per_source,
    )


@dataclass
class Replay:
    """What ``moderation replay`` reports: a version's confusion on labelled comments
    and the comments whose verdict differs from another version's."""

    model: str
    baseline: str | None
    spam: dict[str, Any]
    verdicts: dict[str, int]
    changed: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "baseline": self.baseline,
            "spam": self.spam,
            "verdicts": self.verdicts,
            "changed": self.changed,
        }


def replay_files(
    moderator: Moderator,
    baseline: Moderator | None,
    paths: Sequence[str | Path],
    text_col: str = "content",
    label_col: str = "label",
) -> Replay:
    """Score past labelled comments with ``moderator`` and, when given, ``baseline``.

    Returns:
        The ``Replay``: spam figures and verdict counts of ``moderator``, and every
        comment whose verdict differs between the two (text, label, both verdicts).
    """
    data = load_labelled(paths, text_col=text_col, label_col=label_col)
    if not len(data):
        raise DataError("the replay files hold no labelled comments")
    decisions = moderator.score_many(data.comments)
    before = baseline.score_many(data.comments) if baseline is not None else None
    y = [int(label is Label.SPAM) for label in data.labels]
    changed = []
    if before is not None:
        for comment, label, new, old in zip(
            data.comments, data.labels, decisions, before, strict=True
        ):
            if new.verdict is not old.verdict:
                changed.append(
                    {
                        "content": comment.content,
                        "label": label.value,
                        "before": old.verdict.value,
                        "after": new.verdict.value,
                        "spam_before": round(old.spam, 4),
                        "spam_after": round(new.spam, 4),
                    }
                )
    return Replay(
        model=moderator.version,
        baseline=baseline.version if baseline is not None else None,
        spam=binary_metrics(y, [d.spam for d in decisions], moderator.thresholds.spam),
        verdicts=dict(Counter(d.verdict.value for d in decisions)),
        changed=changed,
    )
