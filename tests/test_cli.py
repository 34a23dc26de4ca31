"""The ``moderation`` command line: exit codes, output shapes and one-line errors."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from moderation.artifact import current_version, load_model
from moderation.cli import cli, main
from moderation.comment import Comment, Label

SPAM_TEXT = "Buy cheap followers now http://followers.example.com"
HAM_TEXT = "Does the recipe work with rye flour? Mine came out dense."

# The contract's words for labels, as a CSV export from another tool might spell them.
_ALIASES = {Label.SPAM: "1", Label.LOW_VALUE: "low-value", Label.HAM: "false"}


@pytest.fixture
def labelled_csv(tmp_path, corpus) -> Path:
    """The mini-corpus as a CSV with its own column names and label aliases."""
    path = tmp_path / "labelled.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "body", "class"])
        for i, (comment, label) in enumerate(zip(*corpus, strict=True)):
            writer.writerow([i, comment.content, _ALIASES[label]])
    return path


def _one_error_line(result, *fragments: str) -> str:
    """The run failed with exit 1 and one line on stderr, 'Error: ...', naming all."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_score_text_prints_the_verdict(runner, moderator):
    result = runner.invoke(cli, ["score", SPAM_TEXT])
    assert result.exit_code == 0, result.output
    expected = moderator.score(Comment(SPAM_TEXT))
    first = result.stdout.splitlines()[0]
    assert first.split()[0] == expected.verdict.value
    assert f"model {moderator.version}" in first


def test_score_joins_several_arguments_into_one_comment(runner):
    result = runner.invoke(cli, ["score", "--json", "Does", "this", "work?"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1


def test_score_json_prints_one_score_response_per_line(runner, moderator):
    result = runner.invoke(cli, ["score", "--json", HAM_TEXT])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    body = json.loads(lines[0])
    assert set(body) == {"id", "verdict", "scores", "reasons", "model"}
    assert body["verdict"] == "approve"
    assert set(body["scores"]) == {"spam", "low_value"}
    assert body["model"] == moderator.version
    assert all(set(r) == {"code", "message", "weight"} for r in body["reasons"])


def test_score_file_reads_json_requests_and_plain_lines(runner, tmp_path):
    path = tmp_path / "comments.txt"
    path.write_text(
        json.dumps({"content": SPAM_TEXT, "author": {"followers": 2}})
        + "\n"
        + "\n"
        + HAM_TEXT
        + "\n"
        + '  {"content": "Nice article, keep it up", "type": "reply"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["score", "--json", "--file", str(path)])
    assert result.exit_code == 0, result.output
    bodies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [b["verdict"] for b in bodies] == ["discard", "approve", "hold"]


def test_score_reads_stdin(runner):
    result = runner.invoke(cli, ["score", "--json"], input=f"{SPAM_TEXT}\n{HAM_TEXT}\n")
    assert result.exit_code == 0, result.output
    bodies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(bodies) == 2
    assert bodies[0]["scores"]["spam"] > bodies[1]["scores"]["spam"]


def test_score_file_dash_reads_stdin(runner):
    result = runner.invoke(
        cli, ["score", "--json", "--file", "-"], input=HAM_TEXT + "\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "approve"


def test_evaluate_json_reports_the_contract_figures(runner, labelled_csv):
    result = runner.invoke(
        cli,
        [
            "evaluate",
            str(labelled_csv),
            "--text-col",
            "body",
            "--label-col",
            "class",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    spam = report["spam"]
    assert {
        "n",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "mcc",
        "roc_auc",
        "recall_at_1pct_fpr",
        "fpr",
        "confusion",
    } <= set(spam)
    assert set(spam["confusion"]) == {"tp", "fp", "tn", "fn"}
    assert spam["n"] == 55 == sum(spam["confusion"].values())
    assert spam["confusion"]["tp"] + spam["confusion"]["fn"] == 20
    assert 0.0 <= spam["roc_auc"] <= 1.0
    assert report["files"] == ["labelled.csv"]


def test_evaluate_prints_a_table(runner, labelled_csv):
    result = runner.invoke(
        cli,
        ["evaluate", str(labelled_csv), "--text-col", "body", "--label-col", "class"],
    )
    assert result.exit_code == 0, result.output
    assert "precision" in result.stdout
    assert "confusion at spam threshold" in result.stdout


def test_train_writes_a_model_and_makes_it_current(
    runner, monkeypatch, tmp_path, labelled_csv
):
    """Into the temporary HOME: HOME/models gets a new current version."""
    monkeypatch.delenv("MODERATION_MODELS_DIR")
    result = runner.invoke(
        cli, ["train", str(labelled_csv), "--text-col", "body", "--label-col", "class"]
    )
    assert result.exit_code == 0, result.output
    models = tmp_path / "models"
    version = current_version(models)
    assert version is not None
    loaded = load_model(models)
    assert loaded.version == version
    assert loaded.manifest["training_data"]["counts"] == {
        "spam": 20,
        "low_value": 15,
        "ham": 20,
    }
    assert "cross-validated spam" in result.stdout
    assert "thresholds:" in result.stdout
    assert f"model {version}" in result.stderr


def test_train_out_writes_to_the_given_directory(runner, tmp_path, labelled_csv):
    out = tmp_path / "elsewhere"
    result = runner.invoke(
        cli,
        [
            "train",
            str(labelled_csv),
            "--text-col",
            "body",
            "--label-col",
            "class",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert current_version(out) is not None


def test_missing_file_is_one_error_line_naming_it(runner, tmp_path):
    missing = tmp_path / "nope.csv"
    result = runner.invoke(cli, ["evaluate", str(missing)])
    _one_error_line(result, str(missing), "no such file")


def test_bad_label_is_one_error_line_naming_file_and_line(
    runner, monkeypatch, tmp_path
):
    monkeypatch.delenv("MODERATION_MODELS_DIR")
    path = tmp_path / "bad.csv"
    path.write_text("content,label\nfine,ham\nhmm,maybe\n", encoding="utf-8")
    result = runner.invoke(cli, ["train", str(path)])
    _one_error_line(result, f"{path}:3", "unknown label 'maybe'")
    assert current_version(tmp_path / "models") is None


def test_missing_column_is_one_error_line_naming_file_and_column(runner, labelled_csv):
    result = runner.invoke(cli, ["evaluate", str(labelled_csv), "--label-col", "class"])
    _one_error_line(result, f"{labelled_csv}:1", "no column 'content'")


def test_too_little_data_to_train_is_one_error_line(runner, monkeypatch, tmp_path):
    monkeypatch.delenv("MODERATION_MODELS_DIR")
    path = tmp_path / "tiny.csv"
    path.write_text("content,label\nbuy now,spam\nthanks,ham\n", encoding="utf-8")
    result = runner.invoke(cli, ["train", str(path)])
    _one_error_line(result, "need at least 10")


def test_no_model_is_one_error_line(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(tmp_path / "empty"))
    result = runner.invoke(cli, ["score", "hello"])
    _one_error_line(result, "no trained model", "moderation train")


def test_model_outside_the_models_dir_is_one_error_line(runner, tmp_path):
    result = runner.invoke(cli, ["score", "--model", str(tmp_path), "hello"])
    _one_error_line(result, "not a model version inside")


def test_bad_json_line_in_score_file_names_file_and_line(runner, tmp_path):
    path = tmp_path / "comments.jsonl"
    path.write_text(f'{HAM_TEXT}\n{{"content": "x"\n', encoding="utf-8")
    result = runner.invoke(cli, ["score", "--file", str(path)])
    _one_error_line(result, f"{path}:2", "not valid JSON")


def test_invalid_request_in_score_file_names_file_line_and_field(runner, tmp_path):
    path = tmp_path / "comments.jsonl"
    path.write_text('{"content": 5}\n', encoding="utf-8")
    result = runner.invoke(cli, ["score", "--file", str(path)])
    _one_error_line(result, f"{path}:1", "'content' must be a string")


def test_unreadable_score_file_is_one_error_line(runner, tmp_path):
    missing = tmp_path / "nope.txt"
    result = runner.invoke(cli, ["score", "--file", str(missing)])
    _one_error_line(result, str(missing))


@pytest.mark.parametrize(
    "args",
    [
        ["score", "--bogus"],
        ["evaluate"],
        ["score", "hello", "--file", "x.txt"],
        ["frobnicate"],
        ["train", "--out"],
    ],
)
def test_bad_usage_exits_2(runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output


def test_bad_setting_is_one_error_line_and_exit_1(monkeypatch, capsys):
    """A ConfigError while loading settings goes through main: one line, exit 1."""
    monkeypatch.setenv("MODERATION_PORT", "eighty")
    monkeypatch.setattr(sys, "argv", ["moderation", "score", "hello"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Error: MODERATION_PORT = 'eighty' is not valid; expected int"]
