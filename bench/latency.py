"""Speed figures for the moderation core, in-process (no HTTP).

- single: Moderator.score on one comment at a time (features, both scores, policy,
  reasons): p50, p99 and mean, over real comments (YouTube 01-04 texts when the shared
  datasets are present, else the training corpus);
- batch: Moderator.score_many over all of them, comments per second on one core;
- training: `moderation train` on the default corpus in a subprocess: wall seconds and
  peak resident memory.

Usage: python bench/latency.py [--models DIR] [--skip-training] [--datasets DIR]
Figures go to stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moderation.comment import Comment
from moderation.dataset import load_labelled
from moderation.moderator import Moderator
from moderation.operations import ensure_model

ROOT = Path(__file__).resolve().parent.parent


def sample(datasets: Path) -> tuple[str, list[Comment]]:
    youtube = sorted((datasets / "youtube-spam").glob("Youtube0*.csv"))
    if youtube:
        data = load_labelled(youtube, text_col="CONTENT", label_col="CLASS")
        return "YouTube 01-04", data.comments
    data = load_labelled([ROOT / "training_data"])
    return "training_data", data.comments


def single(moderator: Moderator, comments: list[Comment], rounds: int) -> list[float]:
    times = []
    perf = time.perf_counter
    for _ in range(rounds):
        for c in comments:
            t = perf()
            moderator.score(c)
            times.append(perf() - t)
    return times


def training_run() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MODERATION_HOME=tmp)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "moderation", "train"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - t
    # ru_maxrss of reaped children: the largest of them (joblib workers included).
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", type=Path, help="models directory (default: a fresh default model)"
    )
    parser.add_argument(
        "--datasets", type=Path, default=ROOT.parent / "shared" / "datasets"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        models = args.models or Path(tmp) / "models"
        ensure_model(models, ROOT / "training_data")
        t = time.perf_counter()
        moderator = Moderator.load(models)
        load_ms = (time.perf_counter() - t) * 1000
        name, comments = sample(args.datasets)
        single(moderator, comments[:200], 1)  # warm-up
        times = sorted(single(moderator, comments, args.rounds))
        us = [x * 1e6 for x in times]
        p50 = us[len(us) // 2]
        p99 = us[int(len(us) * 0.99)]
        print(f"model load + compile: {load_ms:.0f} ms")
        print(
            f"single comment, full path ({name}, {len(us)} calls): "
            f"p50 {p50:.0f} us, p99 {p99:.0f} us, mean {statistics.fmean(us):.0f} us"
        )
        t = time.perf_counter()
        for _ in range(args.rounds):
            moderator.score_many(comments)
        rate = args.rounds * len(comments) / (time.perf_counter() - t)
        print(f"batch, full path with reasons: {rate:,.0f} comments/s on one core")
        t = time.perf_counter()
        for _ in range(args.rounds):
            moderator.spam_scores(comments)
        rate = args.rounds * len(comments) / (time.perf_counter() - t)
        print(f"batch, spam score only: {rate:,.0f} comments/s on one core")
    if not args.skip_training:
        seconds, peak = training_run()
        print(
            f"training on training_data/: {seconds:.0f} s wall, peak RSS {peak:.0f} MiB"
        )


if __name__ == "__main__":
    main()
