"""HTTP benchmark: POST /v1/score against a trivial Flask JSON endpoint (the ceiling).

Both run on gunicorn with the same options (``service.server.gunicorn_options``) on
127.0.0.1; wrk (``apt-get install wrk``) drives them from the same machine. For each
server: requests/s and p50/p99 latency at the maximum rate wrk reaches with a fixed
number of connections, then p99 at half that rate (wrk paced with its Lua ``delay``
hook; an approximation of a constant-rate generator, good to within a few percent).
The scored comments rotate through a sample of ``training_data/``. Every run is
bounded: ``--duration`` seconds per measurement, six measurements.

    python bench/http_load.py [--duration 10] [--connections 8] [--home DIR]
                              [--workers 2] [--threads 4]

``--home`` (default: a temporary directory) must hold a trained model, or the default
model is trained there first (about a minute). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local path = os.getenv("BENCH_PATH")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "1")
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")

function setup(thread)
  thread:set("i", math.random(1, #bodies))
end

request = function()
  i = i + 1
  return wrk.format(nil, path, nil, bodies[(i % #bodies) + 1])
end

if rate > 0 then
  -- Each connection waits about connections/rate seconds between its requests,
  -- jittered so that connections do not move in step.
  local mean = connections * 1000 / rate
  delay = function()
    return mean * (0.5 + math.random())
  end
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(
    port: int, path: str, process: subprocess.Popen, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}{path}", timeout=2
            ) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server on port {port} not ready after {timeout} s")


def _ceiling_server(port: int) -> None:
    """A trivial Flask JSON endpoint on gunicorn with the service's options."""
    from flask import Flask, jsonify, request

    from moderation.config import load_settings
    from service.server import _Server, gunicorn_options

    app = Flask("ceiling")

    @app.post("/ceiling")
    def ceiling():  # type: ignore[no-untyped-def]
        body = request.get_json()
        return jsonify({"ok": True, "n": len(body)})

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        return jsonify({"status": "ok"})

    settings = load_settings(port=port)
    _Server(app, gunicorn_options(settings)).run()


def _sample_bodies(path: Path, n: int = 64) -> None:
    texts = []
    for file in sorted((ROOT / "training_data").glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["content"])
    random.Random(0).shuffle(texts)
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts[:n]):
            body = {
                "content": text,
                "type": "comment",
                "author": {
                    "name": f"reader{i}",
                    "email": f"reader{i}@example.org",
                    "ip": "192.0.2.1",
                    "user_agent": "Mozilla/5.0",
                },
                "post": {"permalink": "https://blog.example/p/1"},
            }
            fh.write(json.dumps(body) + "\n")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _wrk(
    port: int,
    path: str,
    env: dict[str, str],
    duration: int,
    connections: int,
    rate: float = 0.0,
) -> dict[str, float]:
    run_env = dict(
        env, BENCH_PATH=path, BENCH_RATE=str(rate), BENCH_CONNECTIONS=str(connections)
    )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "5s",
            "-s",
            env["BENCH_SCRIPT"],
            f"http://127.0.0.1:{port}",
        ],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=int, default=10, help="Seconds per measurement."
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk connections.")
    parser.add_argument("--home", type=Path, help="MODERATION_HOME holding a model.")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (both)."
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="Threads per worker (both)."
    )
    parser.add_argument("--ceiling-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ceiling_server:
        _ceiling_server(args.ceiling_server)
        return

    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    home = args.home or work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env["MODERATION_HOME"] = str(home)
    env["MODERATION_WORKERS"] = str(args.workers)
    env["MODERATION_THREADS"] = str(args.threads)

    from moderation import store
    from moderation.artifact import current_version

    if current_version(home / "models") is None:
        print("training the default model (about a minute)...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "moderation", "train"], env=env, check=True
        )
    key, _ = store.create_key(
        store.connect(f"sqlite:///{home / 'moderation.db'}"), "https://bench.example"
    )
    bodies = work / "bodies.jsonl"
    _sample_bodies(bodies)
    script = work / "bench.lua"
    script.write_text(LUA, encoding="utf-8")
    env.update(BENCH_BODIES=str(bodies), BENCH_KEY=key, BENCH_SCRIPT=str(script))

    servers = []
    try:
        score_port, ceiling_port = _free_port(), _free_port()
        log = (work / "servers.log").open("wb")
        servers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "moderation",
                    "serve",
                    "--port",
                    str(score_port),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        servers.append(
            subprocess.Popen(
                [sys.executable, __file__, "--ceiling-server", str(ceiling_port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        _wait_ready(score_port, "/readyz", servers[0])
        _wait_ready(ceiling_port, "/healthz", servers[1])

        rows = []
        for name, port, path in (
            ("ceiling: trivial Flask JSON", ceiling_port, "/ceiling"),
            ("POST /v1/score", score_port, "/v1/score"),
        ):
            _wrk(port, path, env, 2, args.connections)  # warm up
            peak = _wrk(port, path, env, args.duration, args.connections)
            half = _wrk(
                port, path, env, args.duration, args.connections, peak["rps"] / 2
            )
            rows.append((name, peak, half))
    finally:
        for process in servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in servers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    cpus = os.cpu_count()
    print(
        f"wrk -t2 -c{args.connections}, {args.duration} s per run, {cpus} CPUs, "
        f"gunicorn gthread {args.workers} workers x {args.threads} threads, "
        "all on 127.0.0.1\n"
    )
    print(
        "| endpoint | max req/s | p50 ms | p99 ms | half-rate req/s "
        "| p99 ms at half rate "
        "| non-2xx |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, peak, half in rows:
        print(
            f"| {name} | {peak['rps']:.0f} | {peak['p50']:.2f} | {peak['p99']:.2f} | "
            f"{half['rps']:.0f} | {half['p99']:.2f} | "
            f"{peak['errors'] + half['errors']:.0f} |"
        )
    ceiling, score = rows[0][1]["rps"], rows[1][1]["rps"]
    print(
        f"\n/v1/score reaches {100 * score / ceiling:.0f}% of the ceiling's throughput."
    )


if __name__ == "__main__":
    main()
