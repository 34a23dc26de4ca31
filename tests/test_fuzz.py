"""Schema-driven fuzzing: schemathesis generates requests from /openapi.json.

Positive and negative examples for every operation, in-process over WSGI: about two
thousand requests, in under a minute. Every response must be documented and match its
schema, and none may be a 5xx. Requests carry a valid bearer key and a Host name that
holds the same key (as old Akismet clients send it), so generated bodies reach the
scoring code rather than stopping at 401/``invalid``. Hypothesis is driven directly,
not through schemathesis' pytest plugin, whose lazy fixtures rely on pytest internals.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from moderation.store import create_key
from service import create_app

EXAMPLES = 150
# Negative form bodies are slow to generate and find little: every form value is text.
NEGATIVE_FORM_EXAMPLES = 30


@pytest.fixture
def fuzz_app(settings):
    """The service over the session model, with small limits so they are reached.

    Checks are written before answering: with batching, feedback for the many unknown
    ids generated would each wait one interval for other workers.
    """
    return create_app(
        replace(settings, max_body_bytes=64 * 1024, max_batch=20, check_flush_ms=0)
    )


def _examples(operation, mode: GenerationMode) -> int:
    akismet_form = operation.path.startswith("/1.1/")
    return NEGATIVE_FORM_EXAMPLES if akismet_form and mode.is_negative else EXAMPLES


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzz_no_server_errors(fuzz_app, mode, caplog):
    """Generated requests never get a 5xx, and every answer matches the document."""
    # One log line per request would swamp the report.
    caplog.set_level("WARNING", logger="moderation.service")
    key, _ = create_key(
        fuzz_app.extensions["moderation"].engine, "https://blog.example"
    )
    headers = {"Authorization": f"Bearer {key}", "Host": f"{key}.localhost"}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)
    schema.config.generation.update(deterministic=True)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    calls = []

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=_examples(operation, mode),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            calls.append(case.operation.label)
            case.call_and_validate(headers=headers)

        try:
            run()
        except Unsatisfiable:
            # Nothing to get wrong (GET /healthz takes no input): no negative cases.
            assert mode.is_negative, operation.label
    assert len(calls) >= 700
