"""Model quality on the public labelled data in ../shared/datasets (read at run time).

Prints one table:
  (a) the default model (trained on training_data/ only) on YouTube 01-04 and SMS;
  (b) leave-one-video-out over YouTube 01-04, each model trained through the same code
      path as `moderation train --text-col CONTENT --label-col CLASS`;
  (c) SMS Spam Collection, stratified 5-fold CV (duplicate texts kept in one fold);
  (d) with and without the metadata signals (account, author, behaviour, relevance):
      3-fold CV over training_data/with_metadata.jsonl, each fold's model trained on
      the rest of training_data/ plus the fold's training part; "without" strips every
      field but the content from all comments (train and test).
Precision, recall, F1 and MCC are at each model's own spam threshold (the policy's,
chosen at training time for 0.5% FPR); ROC AUC and recall at 1% FPR need no threshold.

Usage: python bench/quality.py [--datasets DIR] [--only a,b,c] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from moderation.artifact import save_model
from moderation.comment import Comment, Label
from moderation.dataset import load_labelled
from moderation.evaluation import binary_metrics
from moderation.moderator import Moderator
from moderation.operations import train_files
from moderation.text import normalise
from moderation.training import TrainingOptions, train

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("precision", "recall", "f1", "mcc", "roc_auc", "recall_at_1pct_fpr")


def youtube_files(datasets: Path) -> list[Path]:
    return sorted((datasets / "youtube-spam").glob("Youtube0*.csv"))


def sms(datasets: Path) -> tuple[list[Comment], list[Label]]:
    # The SMS file has no header: "<label>\t<text>" per line.
    comments, labels = [], []
    path = datasets / "sms-spam" / "SMSSpamCollection"
    for line in path.read_text(encoding="utf-8").splitlines():
        label, text = line.split("\t", 1)
        comments.append(Comment(content=text))
        labels.append(Label.SPAM if label == "spam" else Label.HAM)
    return comments, labels


def metrics(moderator: Moderator, comments: list[Comment], labels: list[Label]) -> dict:
    scores = moderator.spam_scores(comments)
    y = [int(label is Label.SPAM) for label in labels]
    return binary_metrics(y, scores, moderator.thresholds.spam)


def row(name: str, m: dict) -> dict:
    return {"name": name, **{c: m[c] for c in COLUMNS}, "n": m["n"]}


def part_a(datasets: Path, work: Path, options: TrainingOptions) -> list[dict]:
    t = time.perf_counter()
    path, _ = train_files([ROOT / "training_data"], work / "default", options=options)
    print(
        f"(a) trained the default model in {time.perf_counter() - t:.0f} s",
        file=sys.stderr,
    )
    moderator = Moderator.load(work / "default")
    rows = []
    for f in youtube_files(datasets):
        data = load_labelled([f], text_col="CONTENT", label_col="CLASS")
        rows.append(
            row(
                f"(a) default -> {f.stem}",
                metrics(moderator, data.comments, data.labels),
            )
        )
    rows.append(mean_row("(a) default -> YouTube mean", rows))
    comments, labels = sms(datasets)
    rows.append(row("(a) default -> SMS", metrics(moderator, comments, labels)))
    return rows


def part_b(datasets: Path, work: Path, options: TrainingOptions) -> list[dict]:
    files = youtube_files(datasets)
    rows = []
    for held_out in files:
        t = time.perf_counter()
        models = work / f"lovo-{held_out.stem}"
        train_files(
            [f for f in files if f != held_out],
            models,
            text_col="CONTENT",
            label_col="CLASS",
            options=options,
        )
        moderator = Moderator.load(models)
        data = load_labelled([held_out], text_col="CONTENT", label_col="CLASS")
        rows.append(
            row(
                f"(b) LOVO -> {held_out.stem}",
                metrics(moderator, data.comments, data.labels),
            )
        )
        print(f"(b) {held_out.stem}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    rows.append(mean_row("(b) LOVO mean", rows))
    return rows


def part_c(datasets: Path, work: Path, options: TrainingOptions) -> list[dict]:
    comments, labels = sms(datasets)
    y = np.array([label is Label.SPAM for label in labels])
    ids: dict[str, int] = {}
    groups = np.array(
        [ids.setdefault(normalise(c.content), len(ids)) for c in comments]
    )
    folds = StratifiedGroupKFold(5, shuffle=True, random_state=0).split(
        comments, y, groups
    )
    rows = []
    for i, (train_idx, test_idx) in enumerate(folds, start=1):
        t = time.perf_counter()
        model = train(
            [comments[j] for j in train_idx], [labels[j] for j in train_idx], options
        )
        models = work / f"sms-{i}"
        save_model(
            model, models, {"files": ["SMSSpamCollection"], "sha256": f"fold{i}"}
        )
        moderator = Moderator.load(models)
        rows.append(
            row(
                f"(c) SMS fold {i}",
                metrics(
                    moderator,
                    [comments[j] for j in test_idx],
                    [labels[j] for j in test_idx],
                ),
            )
        )
        print(f"(c) fold {i}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    rows.append(mean_row("(c) SMS 5-fold mean", rows))
    return rows


def part_d(datasets: Path, work: Path, options: TrainingOptions) -> list[dict]:
    meta_file = ROOT / "training_data" / "with_metadata.jsonl"
    if not meta_file.exists():
        return []
    meta = load_labelled([meta_file])
    others = load_labelled(
        [p for p in sorted((ROOT / "training_data").glob("*.jsonl")) if p != meta_file]
    )
    y = np.array([label is Label.SPAM for label in meta.labels])
    folds = list(
        StratifiedGroupKFold(3, shuffle=True, random_state=0).split(
            meta.comments, y, np.arange(len(y))
        )
    )
    rows = []
    for variant in ("with signals", "text only"):
        strip = variant == "text only"

        def prepare(cs: list[Comment], strip: bool = strip) -> list[Comment]:
            return [Comment(content=c.content) for c in cs] if strip else cs

        fold_rows = []
        for i, (train_idx, test_idx) in enumerate(folds, start=1):
            t = time.perf_counter()
            comments = prepare(others.comments + [meta.comments[j] for j in train_idx])
            labels = others.labels + [meta.labels[j] for j in train_idx]
            model = train(comments, labels, options)
            models = work / f"meta-{strip}-{i}"
            save_model(model, models, {"files": ["training_data"], "sha256": f"d{i}"})
            moderator = Moderator.load(models)
            test = prepare([meta.comments[j] for j in test_idx])
            fold_rows.append(
                row(
                    f"(d) {variant} fold {i}",
                    metrics(moderator, test, [meta.labels[j] for j in test_idx]),
                )
            )
            print(
                f"(d) {variant} fold {i}: {time.perf_counter() - t:.0f} s",
                file=sys.stderr,
            )
        rows.append(mean_row(f"(d) metadata, {variant}", fold_rows))
    return rows


def mean_row(name: str, rows: list[dict]) -> dict:
    out: dict = {"name": name, "n": sum(r["n"] for r in rows)}
    for c in COLUMNS:
        values = [r[c] for r in rows if r[c] is not None]
        out[c] = float(np.mean(values)) if values else None
    return out


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'':<34} {'n':>5} {'precision':>9} {'recall':>7} {'F1':>6} {'MCC':>6} "
        f"{'ROC AUC':>7} {'R@1%FPR':>7}"
    )
    print(head)
    for r in rows:
        cells = [("-" if r[c] is None else f"{r[c]:.3f}") for c in COLUMNS]
        print(
            f"{r['name']:<34} {r['n']:>5} {cells[0]:>9} {cells[1]:>7} {cells[2]:>6} "
            f"{cells[3]:>6} {cells[4]:>7} {cells[5]:>7}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", type=Path, default=ROOT.parent / "shared" / "datasets"
    )
    parser.add_argument("--only", default="a,b,c,d")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    if not args.datasets.is_dir():
        sys.exit(f"no datasets at {args.datasets}; pass --datasets DIR")
    options = TrainingOptions()
    parts = {"a": part_a, "b": part_b, "c": part_c, "d": part_d}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.only.split(","):
            rows += parts[key.strip()](args.datasets, Path(tmp), options)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
