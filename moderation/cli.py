"""The ``moderation`` command line: train, evaluate, score (and, for the service,
serve).

Each command parses its arguments, calls one library function and prints. A
``ModerationError`` becomes a one-line message on stderr and exit code 1; bad usage
keeps click's exit code 2. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from moderation.comment import Comment
from moderation.config import Settings, load_settings
from moderation.errors import InvalidComment, ModerationError
from moderation.moderator import Decision, Moderator
from moderation.operations import evaluate_files, train_files
from moderation.training import TrainingOptions

__all__ = ["cli", "main"]

_TRAIN_STEPS = 4  # spam: CV, final fit; low value: CV, final fit


class _Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings


pass_context = click.make_pass_decorator(_Context, ensure=True)


def _column_options(command: Any) -> Any:
    """--text-col and --label-col, shared by every command that reads labelled files."""
    command = click.option(
        "--label-col", default="label", show_default=True, help="Column with the label."
    )(command)
    return click.option(
        "--text-col",
        default="content",
        show_default=True,
        help="Column with the comment text.",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="moderation")
def cli() -> None:
    """Self-hosted comment moderation: train, evaluate and score comments."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_column_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Models directory to write the new version to (default: HOME/models).",
)
@pass_context
def train(
    ctx: _Context,
    paths: tuple[Path, ...],
    text_col: str,
    label_col: str,
    out: Path | None,
) -> None:
    """Train a model on labelled CSV/TSV/JSONL files or folders
    (default: training_data/).

    Writes a new model version, makes it current and prints cross-validated figures.
    """
    settings = ctx.settings
    sources = list(paths) or [settings.training_data]
    options = TrainingOptions(target_fpr=settings.target_fpr, seed=settings.seed)
    with tqdm(
        total=_TRAIN_STEPS, desc="training", unit="step", file=sys.stderr, disable=None
    ) as bar:
        started: list[str] = []

        def step(description: str) -> None:
            # Called as each step starts: the previous one is then done.
            if started:
                bar.update(1)
            started.append(description)
            bar.set_postfix_str(description)

        path, model = _run(
            train_files,
            sources,
            out or settings.models_path,
            text_col=text_col,
            label_col=label_col,
            options=options,
            progress=step,
        )
        bar.update(bar.total - bar.n)
    click.echo(f"model {path.name} written to {path} and made current", err=True)
    spam = model.metrics["spam"]
    click.echo(
        "cross-validated spam: "
        f"precision {_fmt(spam['precision'])}  recall {_fmt(spam['recall'])}  "
        f"MCC {_fmt(spam['mcc'])}  ROC AUC {_fmt(spam['roc_auc'])}  "
        f"recall@1%FPR {_fmt(spam['recall_at_1pct_fpr'])}  FPR {_fmt(spam['fpr'])}"
    )
    t = model.thresholds
    click.echo(
        f"thresholds: hold {_fmt(t.hold)}  spam {_fmt(t.spam)}  "
        f"discard {_fmt(t.discard)}  low_value {_fmt(t.low_value)}"
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--model", "model_version", help="Model version or directory (default: current)."
)
@_column_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def evaluate(
    ctx: _Context,
    paths: tuple[Path, ...],
    model_version: str | None,
    text_col: str,
    label_col: str,
    as_json: bool,
) -> None:
    """Score labelled files with a model and print precision, recall, MCC, ROC AUC and
    the spam caught at 1% false positives."""
    moderator = _moderator(ctx.settings, model_version)
    with tqdm(desc="scoring", unit="comment", file=sys.stderr, disable=None) as bar:
        result = _run(
            evaluate_files,
            moderator,
            paths,
            text_col=text_col,
            label_col=label_col,
            progress=lambda n: bar.update(n - bar.n),
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), sort_keys=True))
        return
    click.echo(f"model {result.model} on {', '.join(result.files)}")
    header = (
        f"{'source':<28} {'n':>6} {'precision':>9} {'recall':>7} {'F1':>6} "
        f"{'MCC':>6} {'ROC AUC':>7} {'R@1%FPR':>7} {'FPR':>6}"
    )
    click.echo(header)
    rows = dict(result.per_source)
    if len(rows) > 1:
        rows["all"] = result.spam
    else:
        rows = {next(iter(rows)): result.spam}
    for name, m in rows.items():
        click.echo(
            f"{name[:28]:<28} {m['n']:>6} {_fmt(m['precision']):>9} "
            f"{_fmt(m['recall']):>7} "
            f"{_fmt(m['f1']):>6} {_fmt(m['mcc']):>6} {_fmt(m['roc_auc']):>7} "
            f"{_fmt(m['recall_at_1pct_fpr']):>7} {_fmt(m['fpr']):>6}"
        )
    c = result.spam["confusion"]
    click.echo(
        f"confusion at spam threshold {_fmt(result.spam['threshold'])}: "
        f"tp {c['tp']}  fp {c['fp']}  tn {c['tn']}  fn {c['fn']}"
    )
    click.echo(
        "verdicts: " + "  ".join(f"{k} {v}" for k, v in sorted(result.verdicts.items()))
    )


@cli.command()
@click.argument("text", nargs=-1)
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File with one JSON score request or one text per line ('-' for stdin).",
)
@click.option(
    "--model", "model_version", help="Model version or directory (default: current)."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON score response per line."
)
@pass_context
def score(
    ctx: _Context,
    text: tuple[str, ...],
    file: Path | None,
    model_version: str | None,
    as_json: bool,
) -> None:
    """Score comments given as arguments, in a file, or on stdin."""
    if text and file:
        raise click.UsageError("give comments as arguments or with --file, not both")
    moderator = _moderator(ctx.settings, model_version)
    if text:
        comments: Iterator[Comment] = iter([Comment(content=" ".join(text))])
    elif file is not None and str(file) != "-":
        comments = _read_comments(file)
    else:
        comments = _read_lines(sys.stdin, "<stdin>")
    for comment in comments:
        decision = moderator.score(comment)
        click.echo(
            json.dumps(decision.to_dict(), ensure_ascii=False)
            if as_json
            else _describe(decision)
        )


def _read_comments(path: Path) -> Iterator[Comment]:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            yield from _read_lines(fh, str(path))
    except OSError as exc:
        raise click.ClickException(
            f"{path}: cannot read the file ({exc.strerror})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not valid UTF-8 text") from exc


def _read_lines(lines: Any, name: str) -> Iterator[Comment]:
    # A line that is a JSON object is a score request; any other line is a comment text.
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                yield Comment.from_dict(json.loads(line))
            except json.JSONDecodeError as exc:
                raise click.ClickException(
                    f"{name}:{number}: not valid JSON ({exc.msg})"
                ) from exc
            except InvalidComment as exc:
                raise click.ClickException(f"{name}:{number}: {exc}") from exc
        else:
            yield Comment(content=line)


def _describe(d: Decision) -> str:
    lines = [
        f"{d.verdict.value}  (spam {d.spam:.3f}, low value {d.low_value:.3f}, "
        f"model {d.model})"
    ]
    lines += [f"  - {r.message} [{r.code}, {r.weight:+.2f}]" for r in d.reasons]
    return "\n".join(lines)


def _moderator(settings: Settings, version: str | None) -> Moderator:
    return _run(
        Moderator.load,
        settings.models_path,
        version,
        thresholds=settings.threshold_overrides(),
        allow_discard=settings.allow_discard,
    )


def _run(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except ModerationError as exc:
        raise click.ClickException(str(exc)) from exc


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> None:
    """Entry point of the ``moderation`` console script."""
    try:
        cli(standalone_mode=True)
    except ModerationError as exc:  # raised while loading settings
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


# --- the service: serve, keys, feedback (issue 3) -------------------------------------


@cli.command()
@click.option(
    "--host", help="Address to listen on (default: MODERATION_HOST, 127.0.0.1)."
)
@click.option(
    "--port", type=int, help="Port to listen on (default: MODERATION_PORT, 8000)."
)
@click.option(
    "--workers", type=int, help="Worker processes (default: MODERATION_WORKERS, 2)."
)
@click.option(
    "--threads", type=int, help="Threads per worker (default: MODERATION_THREADS, 4)."
)
def serve(
    host: str | None, port: int | None, workers: int | None, threads: int | None
) -> None:
    """Run the HTTP service on gunicorn; trains the default model first if there is
    none.

    Stops gracefully on SIGTERM or Ctrl-C.
    """
    import os
    import shutil
    import tempfile
    from dataclasses import replace

    from moderation.operations import ensure_model

    settings = _run(
        load_settings, host=host, port=port, workers=workers, threads=threads
    )
    if _run(_current_version, settings.models_path) is None:
        click.echo(
            f"no model in {settings.models_path}: training the default model from "
            f"{settings.training_data} (about a minute)",
            err=True,
        )
        options = TrainingOptions(target_fpr=settings.target_fpr, seed=settings.seed)
        version = _run(
            ensure_model, settings.models_path, settings.training_data, options=options
        )
        click.echo(f"model {version} trained and made current", err=True)
    # Workers share metrics through files; prometheus_client reads this variable when
    # it is first imported, which is below, in service.
    made = settings.metrics_dir is None
    metrics_dir = (
        Path(tempfile.mkdtemp(prefix="moderation-metrics-"))
        if made
        else settings.metrics_dir
    )
    assert metrics_dir is not None
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    try:
        from service.server import serve as run_server

        _run(run_server, replace(settings, metrics_dir=metrics_dir))
    finally:
        if made:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _current_version(models_dir: Path) -> str | None:
    from moderation.artifact import current_version

    return current_version(models_dir)


def _store(settings: Settings) -> Any:
    from moderation.store import connect

    return _run(connect, settings.database)


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys (12 characters, shown once, stored hashed),
    and set each site's policy."""


@keys.command("create")
@click.option(
    "--site",
    required=True,
    help="The site the key is for, e.g. https://myblog.example.",
)
@pass_context
def keys_create(ctx: _Context, site: str) -> None:
    """Create a key and print it, alone, on stdout."""
    from moderation.store import create_key

    key, info = _run(create_key, _store(ctx.settings), site)
    click.echo(key)
    click.echo(
        f"key {info.id} created for {info.site}; it is shown only this once", err=True
    )


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per key.")
@pass_context
def keys_list(ctx: _Context, as_json: bool) -> None:
    """List keys (ids and sites; the keys themselves are not stored)."""
    from moderation.store import list_keys

    found = _run(list_keys, _store(ctx.settings))
    for info in found:
        if as_json:
            click.echo(json.dumps(info.to_dict()))
        else:
            state = (
                f"revoked {info.revoked_at:%Y-%m-%d}" if info.revoked_at else "active"
            )
            policy = (
                ", ".join(f"{k}={json.dumps(v)}" for k, v in info.policy.items())
                or "default policy"
            )
            click.echo(
                f"{info.id}  {info.created_at:%Y-%m-%d %H:%M}  {state:<18}  {info.site}"
                f"  {policy}"
            )
    if not found and not as_json:
        click.echo(
            "no keys yet; create one with 'moderation keys create --site URL'", err=True
        )


@keys.command("revoke")
@click.argument("key_or_id")
@pass_context
def keys_revoke(ctx: _Context, key_or_id: str) -> None:
    """Revoke a key, given the key or its id (from 'keys list')."""
    from moderation.store import revoke_key

    info = _run(revoke_key, _store(ctx.settings), key_or_id)
    click.echo(f"key {info.id} for {info.site} is revoked", err=True)


def _score_option(name: str, what: str) -> Any:
    return click.option(
        name, type=click.FloatRange(0, 1), default=None, help=f"{what} (0 to 1)."
    )


@keys.command("policy")
@click.argument("key_or_id")
@_score_option("--spam", "Spam score from which a comment is spam")
@_score_option("--hold", "Spam score from which a comment is held")
@_score_option("--discard", "Spam score from which spam is discarded")
@_score_option("--low-value", "Low-value score from which a comment is held")
@click.option(
    "--target-fpr",
    type=float,
    default=None,
    help="Set the spam threshold for this false-positive rate (e.g. 0.01).",
)
@click.option(
    "--allow-discard/--no-discard", default=None, help="Use the discard verdict."
)
@click.option("--allow-spam/--no-spam", default=None, help="Use the spam verdict.")
@click.option("--reset", is_flag=True, help="Start from the service's defaults.")
@pass_context
def keys_policy(
    ctx: _Context,
    key_or_id: str,
    spam: float | None,
    hold: float | None,
    discard: float | None,
    low_value: float | None,
    target_fpr: float | None,
    allow_discard: bool | None,
    allow_spam: bool | None,
    reset: bool,
) -> None:
    """Show or change a site's policy: thresholds, target FPR, allowed verdicts.

    Prints the key's settings as JSON on stdout and, when a model is present, the
    thresholds they give on stderr. Unset settings follow the service's.
    """
    from moderation.policy import SitePolicy
    from moderation.store import update_key_policy

    moderator = (
        _moderator(ctx.settings, None)
        if _current_version(ctx.settings.models_path)
        else None
    )

    def check(settings: dict[str, Any]) -> None:
        if moderator is not None:  # thresholds that contradict the model's: refuse
            moderator.policy_for(SitePolicy.from_dict(settings))

    changes = {
        "spam": spam,
        "hold": hold,
        "discard": discard,
        "low_value": low_value,
        "target_fpr": target_fpr,
        "allow_discard": allow_discard,
        "allow_spam": allow_spam,
    }
    info = _run(
        update_key_policy,
        _store(ctx.settings),
        key_or_id,
        changes,
        reset=reset,
        check=check,
    )
    click.echo(json.dumps({"id": info.id, "site": info.site, "policy": info.policy}))
    if moderator is not None:
        policy = moderator.policy_for(SitePolicy.from_dict(info.policy))
        t = policy.thresholds
        click.echo(
            f"model {moderator.version}: hold {_fmt(t.hold)}, spam {_fmt(t.spam)}, "
            f"discard {_fmt(t.discard)}, low_value {_fmt(t.low_value)}; "
            f"discard {'on' if policy.allow_discard else 'off'}, "
            f"spam {'on' if policy.allow_spam else 'off'}",
            err=True,
        )


@cli.group()
def feedback() -> None:
    """Moderators' feedback recorded by the service."""


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from datetime import datetime, timezone

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time; use e.g. 2024-05-01 or "
            "2024-05-01T12:00:00Z"
        ) from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


@feedback.command("export")
@click.option(
    "--since",
    callback=_since,
    help="Only feedback recorded at or after this ISO 8601 time (UTC if no zone).",
)
@pass_context
def feedback_export(ctx: _Context, since: Any) -> None:
    """Print stored feedback as JSON lines: check_id, label, created_at, content if
    kept.
    """
    from moderation.store import export_feedback

    rows = export_feedback(_store(ctx.settings), since)
    try:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    except ModerationError as exc:
        raise click.ClickException(str(exc)) from exc


# --- the learning loop (issue 5) ------------------------------------------------------


@cli.command()
@click.argument("extra", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--since",
    callback=_since,
    help="Only feedback recorded at or after this ISO 8601 time (default: all).",
)
@click.option(
    "--min-new",
    default=20,
    show_default=True,
    help="Fewest new labelled comments (feedback plus EXTRA) worth a new model.",
)
@click.option(
    "--max-share",
    default=0.2,
    show_default=True,
    help="Most of the new labels one API key or IP may contribute.",
)
@pass_context
def retrain(
    ctx: _Context, extra: tuple[Path, ...], since: Any, min_new: int, max_share: float
) -> None:
    """Build a candidate from the base corpus, stored feedback and EXTRA files, and
    compare it with the current model on the same held-out comments.

    The candidate is not made current: promote it with 'moderation models promote'.
    Exits 1 when there is too little new data.
    """
    from moderation.retraining import feedback_data
    from moderation.retraining import retrain as run_retrain
    from moderation.store import export_feedback

    settings = ctx.settings
    rows = _run(
        lambda: list(export_feedback(_store(settings), since, with_origin=True))
    )
    labelled, report = feedback_data(rows, max_share=max_share)
    options = TrainingOptions(target_fpr=settings.target_fpr, seed=settings.seed)
    with tqdm(
        total=_TRAIN_STEPS,
        desc="retraining",
        unit="step",
        file=sys.stderr,
        disable=None,
    ) as bar:
        result = _run(
            run_retrain,
            settings.models_path,
            [settings.training_data],
            labelled,
            extra=list(extra),
            report=report,
            options=options,
            min_new=min_new,
            progress=lambda _step: bar.update(1),
        )
    click.echo(
        f"feedback: {report.rows} rows, {report.used} used, {report.superseded} "
        f"superseded by a later label, {report.without_content} without text, "
        f"{len(report.conflicting_texts)} texts labelled both ways (left out), "
        f"{sum(report.capped_sources.values())} over the per-source share",
        err=True,
    )
    for text in report.conflicting_texts[:10]:
        click.echo(f"  conflicting labels: {text[:100]!r}", err=True)
    click.echo(
        f"candidate {result.candidate.name} ({result.new_comments} new comments; "
        f"compared on {result.holdout} held-out comments)"
    )
    _print_comparison(result.candidate_metrics, result.current_metrics)
    click.echo(f"promote with: moderation models promote {result.candidate.name}")


def _print_comparison(candidate: Any, current: Any) -> None:
    rows = [("candidate", candidate)] + ([("current", current)] if current else [])
    click.echo(
        f"{'':<10} {'version':<28} {'precision':>9} {'recall':>7} {'MCC':>6} "
        f"{'ROC AUC':>7} {'FPR':>6} {'recall@target':>13}"
    )
    for name, c in rows:
        m = c.metrics
        click.echo(
            f"{name:<10} {c.version:<28} {_fmt(m.get('precision')):>9} "
            f"{_fmt(m.get('recall')):>7} {_fmt(m.get('mcc')):>6} "
            f"{_fmt(m.get('roc_auc')):>7} {_fmt(m.get('fpr')):>6} "
            f"{_fmt(m.get('recall_at_target_fpr')):>13}"
        )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--model", "model_version", help="Version to replay (default: current).")
@click.option("--against", help="Version to compare verdicts with (default: current).")
@_column_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def replay(
    ctx: _Context,
    paths: tuple[Path, ...],
    model_version: str | None,
    against: str | None,
    text_col: str,
    label_col: str,
    as_json: bool,
) -> None:
    """Score past labelled comments with a model version; print its confusion and the
    comments whose verdict would change against another version."""
    from moderation.operations import replay_files

    settings = ctx.settings
    moderator = _moderator(settings, model_version)
    baseline = _moderator(settings, against) if (against or model_version) else None
    if baseline is not None and baseline.version == moderator.version:
        baseline = None
    result = _run(
        replay_files, moderator, baseline, paths, text_col=text_col, label_col=label_col
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True))
        return
    c = result.spam["confusion"]
    click.echo(
        f"model {result.model}: tp {c['tp']}  fp {c['fp']}  tn {c['tn']}  "
        f"fn {c['fn']}  (precision {_fmt(result.spam['precision'])}, recall "
        f"{_fmt(result.spam['recall'])}, FPR {_fmt(result.spam['fpr'])})"
    )
    click.echo(
        "verdicts: " + "  ".join(f"{k} {v}" for k, v in sorted(result.verdicts.items()))
    )
    if result.baseline:
        click.echo(f"{len(result.changed)} verdicts differ from {result.baseline}:")
        for change in result.changed:
            click.echo(
                f"  {change['before']} -> {change['after']}  [{change['label']}]  "
                f"{change['content'][:90]!r}"
            )


@cli.group()
def models() -> None:
    """List, inspect, promote and roll back model versions."""


@models.command("list")
@pass_context
def models_list(ctx: _Context) -> None:
    """Every model version, oldest first; * marks the current one."""
    from moderation.artifact import current_version, list_versions, read_manifest

    models_dir = ctx.settings.models_path
    current = current_version(models_dir)
    versions = list_versions(models_dir)
    for version in versions:
        manifest = _run(read_manifest, models_dir, version)
        spam = manifest.get("metrics", {}).get("cross_validated", {}).get("spam", {})
        data = manifest.get("training_data", {})
        click.echo(
            f"{'*' if version == current else ' '} {version}  "
            f"{manifest.get('created_at', '?')}  n={data.get('n', '?')}  "
            f"cv recall@1%FPR {_fmt(spam.get('recall_at_1pct_fpr'))}  "
            f"spam threshold {_fmt(manifest.get('thresholds', {}).get('spam'))}"
        )
    if not versions:
        click.echo(f"no models in {models_dir}; run 'moderation train'", err=True)


@models.command("show")
@click.argument("version", required=False)
@pass_context
def models_show(ctx: _Context, version: str | None) -> None:
    """Print a version's manifest (default: the current one)."""
    from moderation.artifact import current_version, read_manifest

    models_dir = ctx.settings.models_path
    version = version or current_version(models_dir)
    if version is None:
        raise click.ClickException(f"no trained model in {models_dir}")
    click.echo(json.dumps(_run(read_manifest, models_dir, version), indent=2))


@models.command("promote")
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if the guard refuses.")
@click.option(
    "--tolerance",
    default=0.01,
    show_default=True,
    help="How much worse (FPR, recall at the target FPR) is still accepted.",
)
@pass_context
def models_promote(ctx: _Context, version: str, force: bool, tolerance: float) -> None:
    """Make VERSION current if it is no worse than the current model on its held-out
    comments; running services pick it up within seconds."""
    from moderation.retraining import promote

    check = _run(
        promote,
        ctx.settings.models_path,
        version,
        force=force,
        tolerance=tolerance,
        target_fpr=ctx.settings.target_fpr,
    )
    if check.current is not None:
        _print_comparison(check.candidate, check.current)
    for problem in check.problems:
        click.echo(f"forced despite: {problem}", err=True)
    _register(ctx.settings, version, "promote")
    click.echo(f"{version} is now current", err=True)


def _register(settings: Settings, version: str, action: str) -> None:
    # The store's registry lets every service instance agree on the version; a store
    # that cannot be reached leaves the local switch in place, with a warning.
    from moderation.store import connect, set_current_model

    try:
        set_current_model(connect(settings.database), version, action)
    except ModerationError as exc:
        click.echo(
            f"warning: {exc}; only instances sharing this models directory will see "
            "the change",
            err=True,
        )


@models.command("rollback")
@pass_context
def models_rollback(ctx: _Context) -> None:
    """Make the previously current version current again."""
    from moderation.retraining import rollback

    version = _run(rollback, ctx.settings.models_path)
    _register(ctx.settings, version, "rollback")
    click.echo(f"{version} is now current", err=True)


@models.command("compare")
@click.argument("version", required=False)
@click.option("--limit", default=20, show_default=True, help="Disagreements to list.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def models_compare(
    ctx: _Context, version: str | None, limit: int, as_json: bool
) -> None:
    """How a shadow model's verdicts on live comments compare with the serving model's.

    Start the service with MODERATION_SHADOW_MODEL=VERSION to collect them; VERSION
    here defaults to the most recent shadow model.
    """
    from moderation.store import compare_shadow

    report = _run(compare_shadow, _store(ctx.settings), version, limit)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, sort_keys=True))
        return
    if not report["n"]:
        raise click.ClickException(
            "no shadow verdicts yet; run the service with MODERATION_SHADOW_MODEL set "
            "to a candidate version"
        )
    click.echo(
        f"shadow {report['shadow_model']} on {report['n']} live comments: "
        f"{report['agreement']:.1%} same verdict"
    )
    for pair, n in report["pairs"].items():
        click.echo(f"  {pair:<20} {n}")
    for d in report["disagreements"]:
        text = d.get("content", {}).get("content", "")
        click.echo(
            f"  {d['check_id']}  {d['live_verdict']} -> {d['shadow_verdict']}  "
            f"spam {d['live_spam']:.3f} -> {d['shadow_spam']:.3f}  {text[:70]!r}"
        )
