"""Model directories: ``model.joblib`` plus ``manifest.json``, verified before loading.

joblib runs code while loading, so only files this project wrote are loaded: a model
must live under the configured models directory, its manifest must carry our format
version, the scikit-learn version it was built with must be the one installed, and the
model file's sha256 must match the manifest. Anything else is an ``ArtifactError`` with
a one-line reason. ``CURRENT`` in the models directory names the version in use and is
switched atomically.

This module does not train or score.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy
import sklearn

from moderation.errors import ArtifactError
from moderation.policy import Thresholds
from moderation.training import TrainedModel

__all__ = [
    "FORMAT_VERSION",
    "LoadedModel",
    "current_version",
    "list_versions",
    "load_model",
    "read_manifest",
    "save_model",
    "set_current",
]

FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "CURRENT"


@dataclass
class LoadedModel:
    """A verified model: the fitted pipelines and their manifest."""

    version: str
    path: Path
    manifest: dict[str, Any]
    spam: Any
    low_value: Any | None

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds.from_dict(self.manifest["thresholds"])


def save_model(
    model: TrainedModel,
    models_dir: Path,
    data_summary: dict[str, Any],
    make_current: bool = True,
) -> Path:
    """Write a new version directory and (by default) make it current.

    Args:
        model: the trained model.
        models_dir: the configured models directory (created if missing).
        data_summary: what it was trained on (``files``, ``sha256``, ``counts``).
        make_current: switch ``CURRENT`` to the new version.

    Returns:
        The new version's directory.

    Raises:
        ArtifactError: the directory cannot be written.
    """
    created = datetime.now(timezone.utc)
    base = f"{created:%Y%m%dT%H%M%SZ}-{data_summary.get('sha256', '')[:8] or 'model'}"
    version = base
    tmp: Path | None = None
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=models_dir))
        joblib.dump(
            {"spam": model.spam, "low_value": model.low_value}, tmp / MODEL_FILE
        )
        manifest = {
            "format_version": FORMAT_VERSION,
            "version": version,
            "created_at": created.isoformat(timespec="seconds"),
            "model_sha256": _sha256(tmp / MODEL_FILE),
            "libraries": _library_versions(),
            "git_commit": _git_commit(),
            "training_data": dict(data_summary, counts=model.counts),
            "params": model.params,
            "options": {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in vars(model.options).items()
            },
            "thresholds": model.thresholds.to_dict(),
            "priors_applied": model.priors,
            "held_out": model.held_out,
            "metrics": {"cross_validated": model.metrics},
            "questions": ["spam"]
            + (["low_value"] if model.low_value is not None else []),
        }
        # Two trainings on the same data within one second get -2, -3...: renaming
        # onto an existing version directory fails, so the next name is tried.
        for attempt in range(1, 100):
            version = base if attempt == 1 else f"{base}-{attempt}"
            manifest["version"] = version
            (tmp / MANIFEST_FILE).write_text(
                json.dumps(manifest, indent=2, default=_jsonable) + "\n",
                encoding="utf-8",
            )
            target = models_dir / version
            if target.exists():
                continue
            try:
                os.replace(tmp, target)
                break
            except OSError:
                if not target.exists():
                    raise
        else:
            raise ArtifactError(f"cannot find a free version name for {base}")
        if make_current:
            set_current(models_dir, version)
    except OSError as exc:
        raise ArtifactError(
            f"cannot write the model to {models_dir}: {exc.strerror}"
        ) from exc
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def set_current(models_dir: Path, version: str) -> None:
    """Point ``CURRENT`` at ``version`` atomically (write a temp file, rename)."""
    if not (models_dir / version / MANIFEST_FILE).is_file():
        raise ArtifactError(f"no model version {version!r} in {models_dir}")
    fd, tmp = tempfile.mkstemp(prefix=".current-", dir=models_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
    os.replace(tmp, models_dir / CURRENT_FILE)


def current_version(models_dir: Path) -> str | None:
    """The version ``CURRENT`` names, or ``None`` when there is no trained model."""
    try:
        version = (models_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def list_versions(models_dir: Path) -> list[str]:
    """Every version directory with a manifest, oldest first."""
    if not models_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in models_dir.iterdir()
        if not p.name.startswith(".") and (p / MANIFEST_FILE).is_file()
    )


def load_model(models_dir: Path, version: str | Path | None = None) -> LoadedModel:
    """Verify and load a model version.

    Args:
        models_dir: the configured models directory.
        version: a version name, or a path to a version directory inside
            ``models_dir``; default: the current version.

    Returns:
        The ``LoadedModel``.

    Raises:
        ArtifactError: no model, a path outside ``models_dir``, a missing or foreign
            manifest, a checksum mismatch or another scikit-learn version.
    """
    root = models_dir.resolve()
    if version is None:
        version = current_version(models_dir)
        if version is None:
            raise ArtifactError(
                f"no trained model in {models_dir}; run 'moderation train' first"
            )
    candidate = Path(version)
    if candidate.is_absolute() or len(candidate.parts) > 1:
        path = candidate.resolve()
    else:
        path = (models_dir / candidate).resolve()
    if path.parent != root:
        raise ArtifactError(
            f"{version} is not a model version inside the models directory "
            f"{models_dir}; "
            "only models this service wrote there are loaded (joblib runs code on load)"
        )
    manifest = _read_manifest(path)
    found = manifest.get("format_version")
    if found != FORMAT_VERSION:
        raise ArtifactError(
            f"{path.name}: model format {found!r} is not the supported "
            f"{FORMAT_VERSION}; "
            "retrain with this version of moderation"
        )
    built = manifest.get("libraries", {}).get("scikit-learn")
    if built != sklearn.__version__:
        raise ArtifactError(
            f"{path.name}: built with scikit-learn {built}, but "
            f"{sklearn.__version__} is "
            "installed; retrain the model or install the matching scikit-learn"
        )
    model_file = path / MODEL_FILE
    if not model_file.is_file():
        raise ArtifactError(f"{path.name}: {MODEL_FILE} is missing")
    if _sha256(model_file) != manifest.get("model_sha256"):
        raise ArtifactError(
            f"{path.name}: {MODEL_FILE} does not match the checksum in its manifest; "
            "it was changed after training and will not be loaded"
        )
    try:
        models = joblib.load(model_file)
    except Exception as exc:  # a verified file that still fails to load
        raise ArtifactError(f"{path.name}: cannot load {MODEL_FILE} ({exc})") from exc
    return LoadedModel(
        version=manifest.get("version", path.name),
        path=path,
        manifest=manifest,
        spam=models["spam"],
        low_value=models.get("low_value"),
    )


def read_manifest(models_dir: Path, version: str) -> dict[str, Any]:
    """A version's manifest, without loading (or trusting) its model file.

    Raises:
        ArtifactError: no such version, or its manifest is unreadable.
    """
    if version not in list_versions(models_dir):
        raise ArtifactError(f"no model version {version!r} in {models_dir}")
    return _read_manifest(models_dir / version)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(
            f"{path}: no {MANIFEST_FILE}; not a model directory"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path.name}: {MANIFEST_FILE} is not valid JSON") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path.name}: {MANIFEST_FILE} is not a JSON object")
    return manifest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _library_versions() -> dict[str, str]:
    import nltk

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "joblib": joblib.__version__,
        "nltk": nltk.__version__,
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (numpy.integer, numpy.floating)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a manifest")
