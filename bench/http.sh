#!/usr/bin/env bash
# HTTP benchmark of POST /v1/score next to a trivial Flask JSON endpoint on the same
# gunicorn configuration, on 127.0.0.1 only. Bounded: 6 runs of --duration seconds
# (default 10) plus start-up. See bench/http_load.py for the options.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench/http.sh needs wrk: apt-get install -y wrk" >&2
  exit 1
fi
PYTHON=${PYTHON:-python3}
exec "$PYTHON" bench/http_load.py "$@"
