"""How recall on a new spam campaign recovers as moderators' feedback arrives.

Trains on YouTube videos 01-03 (the "current" model), then streams video 04 (a new
site with its own spam campaigns) in as feedback, in batches: after each batch a model
is retrained on 01-03 plus all feedback so far, through the same code path as
`moderation retrain` (feedback_data -> train), and scored on the part of video 04 no
moderator has labelled yet. Prints spam recall at 1% FPR and at the model's own
threshold after each batch. Reads ../shared/datasets at run time.

Usage: python bench/recovery.py [--datasets DIR] [--batches 0,25,50,100,200]
       [--stream 4]  (another video, e.g. 3, starts from the other three)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from moderation.artifact import save_model
from moderation.comment import Label
from moderation.dataset import load_labelled
from moderation.evaluation import binary_metrics
from moderation.moderator import Moderator
from moderation.retraining import feedback_data
from moderation.training import TrainingOptions, train

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", type=Path, default=ROOT.parent / "shared" / "datasets"
    )
    parser.add_argument("--batches", default="0,25,50,100,200")
    parser.add_argument(
        "--stream",
        type=int,
        default=4,
        help="video streamed as feedback (1-4); the model starts on the other three",
    )
    args = parser.parse_args()
    files = sorted((args.datasets / "youtube-spam").glob("Youtube0*.csv"))
    if len(files) < 4:
        sys.exit(f"no YouTube files under {args.datasets}; pass --datasets DIR")
    streamed = files[args.stream - 1]
    base = load_labelled(
        [f for f in files if f != streamed], text_col="CONTENT", label_col="CLASS"
    )
    stream = load_labelled([streamed], text_col="CONTENT", label_col="CLASS")
    order = list(range(len(stream)))
    random.Random(0).shuffle(order)  # feedback arrives in no particular order
    sizes = [int(n) for n in args.batches.split(",")]
    test = order[max(sizes) :]  # never labelled by a moderator in any step
    y = [int(stream.labels[i] is Label.SPAM) for i in test]
    print(
        f"{'feedback':>8} {'R@1%FPR':>8} {'recall':>7} {'FPR':>6} {'MCC':>6}  "
        f"(on {len(test)} unlabelled comments of {streamed.stem})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            t = time.perf_counter()
            rows = [
                {
                    "check_id": f"c{i}",
                    "label": stream.labels[i].value,
                    "content": {"content": stream.comments[i].content},
                    "key_id": "site",
                }
                for i in order[:n]
            ]
            feedback, _ = feedback_data(rows, max_share=1.0)
            model = train(
                base.comments + feedback.comments,
                base.labels + feedback.labels,
                TrainingOptions(),
            )
            models = Path(tmp) / f"n{n}"
            save_model(model, models, {"sha256": f"{n:08d}"})
            moderator = Moderator.load(models)
            scores = moderator.spam_scores([stream.comments[i] for i in test])
            m = binary_metrics(y, scores, moderator.thresholds.spam)
            print(
                f"{n:>8} {m['recall_at_1pct_fpr']:>8.3f} {m['recall']:>7.3f} "
                f"{m['fpr']:>6.3f} {m['mcc']:>6.3f}  ({time.perf_counter() - t:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
