"""Cost of the recent-history look-ups (issue 4), apart from in-process scoring.

- fingerprint: ``history.fingerprint`` on one comment (normalise + four digests);
- look-up: ``store.history_counts`` (one statement, four indexed counts) against a
  store holding ``--rows`` fingerprints of the last hour for ``--keys`` sites, with
  copy campaigns and bursts among them: p50, p99, mean;
- write: ``store.record_recent`` in batches of 50 (what the check writer does at the
  default 50 ms flush under load), per fingerprint;
- prune: ``store.prune_recent`` deleting one minute's worth of rows;
- HTTP: ``POST /v1/score`` through the Flask test client with history on (the default
  window) and off (``MODERATION_HISTORY_WINDOW_SECONDS=0``), mean per request.

Usage: python bench/history.py [--url URL] [--rows N] [--keys N] [--models DIR]
SQLite in a temporary directory by default. Figures go to stdout; nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from moderation.comment import Comment
from moderation.dataset import load_labelled
from moderation.history import BURST_SECONDS, fingerprint
from moderation.store import (
    connect,
    count_recent,
    create_key,
    history_counts,
    prune_recent,
    record_recent,
    report_domains,
)

ROOT = Path(__file__).resolve().parent.parent


def _comments(n: int) -> list[Comment]:
    texts = [c.content for c in load_labelled([ROOT / "training_data"]).comments]
    rng = random.Random(0)
    out = []
    for i in range(n):
        # One text in five belongs to a campaign pasted many times; authors and IPs
        # repeat, so bursts exist.
        text = texts[rng.randrange(40)] if i % 5 == 0 else rng.choice(texts)
        out.append(
            Comment.from_dict(
                {
                    "content": text,
                    "author": {
                        "name": f"user{rng.randrange(n // 3 + 1)}",
                        "ip": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
                    },
                    "post": {"permalink": f"https://blog.example/{rng.randrange(500)}"},
                }
            )
        )
    return out


def _percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p50 = samples[len(samples) // 2]
    p99 = samples[int(len(samples) * 0.99)]
    return (
        f"p50 {p50 * 1e6:,.0f} µs, p99 {p99 * 1e6:,.0f} µs, "
        f"mean {statistics.fmean(samples) * 1e6:,.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL (default: temporary SQLite)")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument(
        "--models", type=Path, help="models directory (default: train one, ~90 s)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    engine = connect(args.url or f"sqlite:///{tmp / 'bench.db'}")
    keys = [create_key(engine, f"https://site{i}.example")[1].id for i in range(10)]
    keys += [f"k_{i:08x}" for i in range(args.keys - len(keys))]
    comments = _comments(2000)
    now = datetime.now(timezone.utc)
    rng = random.Random(1)
    for k in keys[:10]:
        report_domains(engine, k, [f"spam{i}.example" for i in range(200)])

    # Fill: args.rows fingerprints spread over the last hour.
    start = time.perf_counter()
    batch = []
    for i in range(args.rows):
        fp = fingerprint(comments[i % len(comments)], rng.choice(keys))
        batch.append(
            replace(fp, created_at=now - timedelta(seconds=rng.random() * 3600))
        )
        if len(batch) == 1000:
            record_recent(engine, batch)
            batch = []
    record_recent(engine, batch)
    print(
        f"store: {engine.dialect.name}, {count_recent(engine):,} fingerprints, "
        f"{len(keys)} keys (filled in {time.perf_counter() - start:.1f} s)"
    )

    samples = []
    for c in comments[:1000]:
        t = time.perf_counter()
        fingerprint(c, keys[0])
        samples.append(time.perf_counter() - t)
    print("fingerprint:", _percentiles(samples))

    fps = [fingerprint(c, rng.choice(keys[:10])) for c in comments]
    for fp in fps[:50]:  # warm the connection pool and caches
        history_counts(engine, fp, 3600, BURST_SECONDS)
    samples, hits = [], 0
    for fp in fps:
        t = time.perf_counter()
        found = history_counts(engine, fp, 3600, BURST_SECONDS)
        samples.append(time.perf_counter() - t)
        hits += found["history_copies"] > 0
    print(f"look-up ({hits / len(fps):.0%} with copies):", _percentiles(samples))

    samples = []
    for i in range(0, 2000, 50):
        chunk = [replace(fp, created_at=now) for fp in fps[i : i + 50]]
        t = time.perf_counter()
        record_recent(engine, chunk)
        samples.append((time.perf_counter() - t) / len(chunk))
    print("write, batches of 50, per fingerprint:", _percentiles(samples))

    t = time.perf_counter()
    removed = prune_recent(engine, 3540, now=now)
    print(f"prune: {removed:,} rows in {(time.perf_counter() - t) * 1e3:.1f} ms")

    _http(tmp, args.models)


def _http(tmp: Path, models: Path | None) -> None:
    from moderation.config import load_settings
    from moderation.operations import ensure_model
    from service import create_app

    print("training the default model for the HTTP figures ...", flush=True)

    models = models or tmp / "models"
    ensure_model(models, ROOT / "training_data")
    comments = _comments(600)
    for window in (3600, 0):
        (tmp / f"http{window}").mkdir(exist_ok=True)
        app = create_app(
            load_settings(
                environ={},
                home=tmp / f"http{window}",
                models_dir=models,
                history_window_seconds=window,
            )
        )
        client = app.test_client()
        key, _ = create_key(app.extensions["moderation"].engine, "https://b.example")
        headers = {"Authorization": f"Bearer {key}"}
        bodies = [c.to_dict() for c in comments]
        for body in bodies[:50]:
            client.post("/v1/score", json=body, headers=headers)
        samples = []
        for body in bodies:
            t = time.perf_counter()
            client.post("/v1/score", json=body, headers=headers)
            samples.append(time.perf_counter() - t)
        label = "on" if window else "off"
        print(f"HTTP /v1/score, history {label}:", _percentiles(samples))


if __name__ == "__main__":
    main()
