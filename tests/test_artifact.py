"""Model directories: round trip, verification before loading, CURRENT."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import sklearn

from moderation import artifact
from moderation.artifact import (
    CURRENT_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    current_version,
    list_versions,
    load_model,
    save_model,
    set_current,
)
from moderation.comment import Comment
from moderation.errors import ArtifactError
from moderation.training import comments_frame

SUMMARY = {"files": ["mini.csv"], "sha256": "ab" * 32, "n": 55}


@pytest.fixture
def saved(tmp_path, trained_model) -> Path:
    """A fresh models directory holding the session model as its current version."""
    return save_model(trained_model, tmp_path / "models", SUMMARY)


def _params(estimator) -> dict[str, str]:
    # get_params holds estimators and analyzers, which compare by identity: compare
    # their reprs, which show every parameter.
    return {k: repr(v) for k, v in estimator.get_params(deep=True).items()}


def test_round_trip_gives_identical_probabilities_and_params(
    saved, trained_model, corpus
):
    loaded = load_model(saved.parent)
    X = comments_frame(list(corpus[0]) + [Comment(""), Comment("zxqv unseen")])
    for question in ("spam", "low_value"):
        original, copy = getattr(trained_model, question), getattr(loaded, question)
        np.testing.assert_array_equal(copy.predict_proba(X), original.predict_proba(X))
        assert _params(copy) == _params(original)
    assert loaded.thresholds == trained_model.thresholds
    assert loaded.version == saved.name
    assert loaded.path == saved.resolve()


def test_manifest_records_what_the_persistence_guide_asks_for(saved, trained_model):
    manifest = json.loads((saved / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["version"] == saved.name
    assert manifest["libraries"]["scikit-learn"] == sklearn.__version__
    assert {"python", "numpy", "joblib"} <= set(manifest["libraries"])
    assert manifest["training_data"]["sha256"] == SUMMARY["sha256"]
    assert manifest["training_data"]["counts"] == trained_model.counts
    assert manifest["thresholds"] == trained_model.thresholds.to_dict()
    assert manifest["metrics"]["cross_validated"]["spam"]["n"] == 55
    assert manifest["questions"] == ["spam", "low_value"]
    assert len(manifest["model_sha256"]) == 64
    assert "git_commit" in manifest


def test_save_makes_the_new_version_current(saved):
    assert current_version(saved.parent) == saved.name
    assert list_versions(saved.parent) == [saved.name]


def test_save_without_make_current_leaves_current_alone(tmp_path, trained_model):
    models = tmp_path / "models"
    save_model(trained_model, models, SUMMARY, make_current=False)
    assert current_version(models) is None


def test_two_saves_at_the_same_moment_give_two_versions(
    tmp_path, trained_model, monkeypatch
):
    """Retraining on the same data within one second must not collide on the version
    name: both saves succeed, each version loads, and no temp directory is left."""

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    monkeypatch.setattr(artifact, "datetime", FrozenClock)
    models = tmp_path / "models"
    first = save_model(trained_model, models, SUMMARY)
    second = save_model(trained_model, models, SUMMARY)
    assert first != second
    assert current_version(models) == second.name
    assert list_versions(models) == sorted([first.name, second.name])
    assert not [p for p in models.iterdir() if p.name.startswith(".")]
    load_model(models, first.name)


def test_tampered_model_file_is_refused_mentioning_the_checksum(saved):
    model_file = saved / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_file.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        load_model(saved.parent)


def test_replaced_model_file_is_refused(saved, tmp_path, trained_model):
    import joblib

    joblib.dump({"spam": trained_model.spam, "low_value": None}, saved / MODEL_FILE)
    with pytest.raises(ArtifactError, match="checksum"):
        load_model(saved.parent)


def _edit_manifest(version_dir: Path, **changes) -> None:
    path = version_dir / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key == "sklearn":
            manifest["libraries"]["scikit-learn"] = value
        else:
            manifest[key] = value
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_model_built_with_another_scikit_learn_is_refused(saved):
    _edit_manifest(saved, sklearn="0.24.2")
    with pytest.raises(ArtifactError) as info:
        load_model(saved.parent)
    message = str(info.value)
    assert "scikit-learn 0.24.2" in message
    assert sklearn.__version__ in message


@pytest.mark.parametrize("found", [2, 0, "1", None])
def test_unknown_format_version_is_refused(saved, found):
    _edit_manifest(saved, format_version=found)
    with pytest.raises(ArtifactError, match=f"model format {found!r}"):
        load_model(saved.parent)


def test_missing_manifest_is_refused(saved):
    (saved / MANIFEST_FILE).unlink()
    with pytest.raises(ArtifactError, match="not a model directory"):
        load_model(saved.parent, saved.name)


def test_manifest_that_is_not_json_is_refused(saved):
    (saved / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_model(saved.parent)


def test_missing_model_file_is_refused(saved):
    (saved / MODEL_FILE).unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_model(saved.parent)


def test_model_outside_the_models_dir_is_refused(saved, tmp_path):
    """A perfectly valid model directory elsewhere is still not loaded."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = saved.rename(elsewhere / saved.name)
    for version in (str(outside), f"../elsewhere/{saved.name}", "..", "."):
        with pytest.raises(ArtifactError, match="not a model version inside"):
            load_model(tmp_path / "models", version)


def test_symlink_out_of_the_models_dir_is_refused(saved, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = saved.rename(elsewhere / saved.name)
    (tmp_path / "models" / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ArtifactError, match="not a model version inside"):
        load_model(tmp_path / "models", "linked")


def test_a_version_path_inside_the_models_dir_is_accepted(saved):
    assert load_model(saved.parent, saved).version == saved.name
    assert load_model(saved.parent, saved.name).version == saved.name


def test_no_current_model_is_a_clear_error(tmp_path):
    with pytest.raises(
        ArtifactError, match="no trained model in .*run 'moderation train'"
    ):
        load_model(tmp_path / "models")


def test_current_naming_a_missing_version_is_refused(saved):
    (saved.parent / CURRENT_FILE).write_text(
        "20000101T000000Z-gone\n", encoding="utf-8"
    )
    with pytest.raises(ArtifactError, match="not a model directory"):
        load_model(saved.parent)


def test_set_current_refuses_an_unknown_version_and_keeps_current(saved):
    with pytest.raises(ArtifactError, match="no model version 'nope'"):
        set_current(saved.parent, "nope")
    assert current_version(saved.parent) == saved.name


def test_set_current_is_atomic(saved, tmp_path):
    """A reader never sees CURRENT empty or half-written while it is switched, and no
    temporary file is left behind."""
    models = saved.parent
    other = "20000101T000000Z-other"
    (models / other).mkdir()
    (models / other / MANIFEST_FILE).write_text("{}", encoding="utf-8")
    names = {saved.name, other}
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add((models / CURRENT_FILE).read_text(encoding="utf-8"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(300):
            set_current(models, other if i % 2 else saved.name)
    finally:
        stop.set()
        reader.join()
    assert seen <= {name + "\n" for name in names}
    assert sorted(p.name for p in models.iterdir()) == sorted([*names, CURRENT_FILE])
