"""Per-site policy (issue 4): `moderation keys policy` stores it on the key, `keys
list` shows it, and /v1/score, /v1/score/batch and Akismet's comment-check use it."""

from __future__ import annotations

import json

import pytest

from moderation.cli import cli
from moderation.store import create_key, list_keys, set_key_policy

HONEYPOT = {
    "content": "Nice recipe, I will try it this weekend.",
    "context": {"honeypot": "http://cheap.example.com"},
}
MILD = {"content": "Whole rye", "post": {"title": "Feeding a rye sourdough starter"}}


def test_keys_policy_sets_merges_shows_and_resets(runner, app, engine):
    _, info = create_key(engine, "https://blog.example")
    result = runner.invoke(
        cli, ["keys", "policy", info.id, "--spam", "0.8", "--no-discard"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": info.id,
        "site": "https://blog.example",
        "policy": {"spam": 0.8, "allow_discard": False},
    }
    assert "spam 0.800" in result.stderr and "discard off" in result.stderr
    result = runner.invoke(cli, ["keys", "policy", info.id, "--hold", "0.5"])
    assert json.loads(result.stdout)["policy"] == {
        "spam": 0.8,
        "allow_discard": False,
        "hold": 0.5,
    }
    listed = runner.invoke(cli, ["keys", "list"])
    assert "allow_discard=false, hold=0.5, spam=0.8" in listed.output
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert json.loads(listed.stdout)["policy"]["hold"] == 0.5
    result = runner.invoke(cli, ["keys", "policy", info.id, "--reset"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["policy"] == {}
    assert "default policy" in runner.invoke(cli, ["keys", "list"]).output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hold", "0.9", "--spam", "0.5"], "hold = 0.9 is above spam = 0.5"),
        (["--target-fpr", "0.7"], "target_fpr"),
    ],
)
def test_keys_policy_refuses_contradictions_and_keeps_the_old_policy(
    runner, app, engine, args, message
):
    _, info = create_key(engine, "https://blog.example")
    set_key_policy(engine, info.id, {"spam": 0.7})
    result = runner.invoke(cli, ["keys", "policy", info.id, *args])
    assert result.exit_code == 1
    assert message in result.output
    assert list_keys(engine)[0].policy == {"spam": 0.7}


def test_keys_policy_needs_a_known_key_and_valid_numbers(runner, app):
    result = runner.invoke(cli, ["keys", "policy", "k_00000000", "--spam", "0.5"])
    assert result.exit_code == 1 and "no such API key" in result.output
    result = runner.invoke(cli, ["keys", "policy", "k_00000000", "--spam", "2"])
    assert result.exit_code == 2


def test_a_key_without_discard_never_gets_discard(client, engine):
    blunt, _ = create_key(engine, "https://blunt.example")
    gentle, info = create_key(engine, "https://gentle.example")
    set_key_policy(engine, info.id, {"allow_discard": False})
    default = client.post(
        "/v1/score", json=HONEYPOT, headers={"Authorization": f"Bearer {blunt}"}
    ).get_json()
    assert default["verdict"] == "discard"
    site = client.post(
        "/v1/score", json=HONEYPOT, headers={"Authorization": f"Bearer {gentle}"}
    ).get_json()
    assert site["verdict"] == "spam" and site["reasons"][0]["code"] == "honeypot"
    batch = client.post(
        "/v1/score/batch",
        json={"comments": [HONEYPOT, HONEYPOT]},
        headers={"Authorization": f"Bearer {gentle}"},
    ).get_json()
    assert [r["verdict"] for r in batch["results"]] == ["spam", "spam"]
    akismet = client.post(
        "/1.1/comment-check",
        data={
            "api_key": gentle,
            "blog": "https://gentle.example",
            "comment_content": HONEYPOT["content"],
            "honeypot_field_name": "hp",
            "hp": "http://cheap.example.com",
        },
    )
    assert akismet.get_data(as_text=True) == "true"
    assert akismet.headers["X-moderation-verdict"] == "spam"
    assert "X-akismet-pro-tip" not in akismet.headers
    assert akismet.headers["X-moderation-reasons"].startswith("honeypot")


def test_a_key_with_its_own_spam_threshold(client, engine):
    """A site stricter than the default files as spam what the default approves."""
    default_key, _ = create_key(engine, "https://default.example")
    strict_key, strict = create_key(engine, "https://strict.example")
    default = client.post(
        "/v1/score", json=MILD, headers={"Authorization": f"Bearer {default_key}"}
    ).get_json()
    assert default["verdict"] == "approve"
    threshold = round(default["scores"]["spam"] / 2, 6)
    assert threshold > 0
    set_key_policy(engine, strict.id, {"spam": threshold, "hold": threshold})
    result = client.post(
        "/v1/score", json=MILD, headers={"Authorization": f"Bearer {strict_key}"}
    ).get_json()
    assert result["verdict"] == "spam"
    assert result["scores"] == default["scores"]
    akismet = client.post(
        "/1.1/comment-check",
        data={"api_key": strict_key, "comment_content": MILD["content"]},
    )
    assert akismet.headers["X-moderation-verdict"] in ("spam", "hold", "approve")


def test_a_policy_the_model_cannot_serve_falls_back_to_the_default(client, engine):
    """A stored policy that contradicts the current model never breaks scoring."""
    key, info = create_key(engine, "https://odd.example")
    set_key_policy(engine, info.id, {"hold": 0.99, "spam": 0.98})
    response = client.post(
        "/v1/score", json=HONEYPOT, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "discard"
