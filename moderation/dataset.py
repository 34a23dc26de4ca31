"""Loading labelled comments from CSV/TSV (with a header row), JSON Lines or folders.

A file's rows become ``Comment`` objects plus ``Label`` values; every problem is a
``DataError`` naming the file and line. JSON Lines records in the score-request shape
(``content``, ``author``, ``post``...) keep their metadata; CSV columns named like
``author.name`` or ``author_name`` do too. This module does no feature work.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from xml.etree import ElementTree

from moderation.comment import Author, Comment, Context, Label, Post, parse_label
from moderation.errors import DataError, InvalidComment

__all__ = ["DATA_SUFFIXES", "LabelledData", "data_files", "load_labelled"]

DATA_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".xml", ".wxr")
_WP = "{http://wordpress.org/export/1.2/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
# WordPress's comment_approved: "1" published (ham), "spam" (spam); "0" (pending) and
# "trash" carry no moderator verdict and are skipped.
_WXR_LABELS = {"1": Label.HAM, "spam": Label.SPAM}
# section -> {field: is numeric}
_TAG_RE = re.compile(r"<[^>]+>")
_SECTIONS = {
    section: {f.name: f.type != "str" for f in fields(kind)}
    for section, kind in (("author", Author), ("post", Post), ("context", Context))
}


@dataclass
class LabelledData:
    """Comments with their labels and the file each came from."""

    comments: list[Comment] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def extend(self, other: LabelledData) -> None:
        self.comments.extend(other.comments)
        self.labels.extend(other.labels)
        self.sources.extend(other.sources)

    def counts(self) -> dict[str, int]:
        """Number of comments per label, in label order."""
        return {label.value: self.labels.count(label) for label in Label}

    def digest(self) -> str:
        """sha256 of the texts and labels, in order: identifies a training set."""
        h = hashlib.sha256()
        for comment, label in zip(self.comments, self.labels, strict=True):
            h.update(
                json.dumps([comment.to_dict(), label.value], sort_keys=True).encode()
            )
        return h.hexdigest()


def data_files(paths: Sequence[str | Path]) -> list[Path]:
    """The data files named by ``paths``: files as given, folders searched recursively.

    Raises:
        DataError: a path does not exist, or a folder holds no data file.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in DATA_SUFFIXES
            )
            if not found:
                raise DataError(
                    f"{path}: no data files in this folder "
                    f"(looked for {', '.join(DATA_SUFFIXES)})"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    return files


def load_labelled(
    paths: Sequence[str | Path],
    text_col: str = "content",
    label_col: str = "label",
) -> LabelledData:
    """Read labelled comments from files and folders.

    Args:
        paths: CSV/TSV files with a header row, JSON Lines files, or folders of them.
        text_col: the column (CSV) or key (JSONL) holding the comment text.
        label_col: the column or key holding the label (spam, low_value, ham, 1/0...).

    Returns:
        The ``LabelledData``, in file order.

    Raises:
        DataError: unreadable file, missing column, bad row or unknown label; the
            message names the file and line.
    """
    data = LabelledData()
    for path in data_files(paths):
        data.extend(_load_file(path, text_col, label_col))
    return data


def _load_file(path: Path, text_col: str, label_col: str) -> LabelledData:
    suffix = path.suffix.lower()
    if suffix in (".xml", ".wxr"):
        return _load_wxr(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            if suffix in (".jsonl", ".ndjson"):
                records: Iterable[tuple[int, dict[str, object]]] = _jsonl(path, fh)
            elif suffix in (".csv", ".tsv"):
                records = _csv(
                    path, fh, "\t" if suffix == ".tsv" else ",", text_col, label_col
                )
            else:
                raise DataError(
                    f"{path}: unknown file type {suffix or '(none)'!r}; "
                    f"use one of {', '.join(DATA_SUFFIXES)}"
                )
            data = LabelledData()
            for line, record in records:
                comment, label = _row(path, line, record, text_col, label_col)
                data.comments.append(comment)
                data.labels.append(label)
                data.sources.append(path.name)
            return data
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not valid UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror})") from exc


def _jsonl(path: Path, fh: Iterable[str]) -> Iterator[tuple[int, dict[str, object]]]:
    for line, text in enumerate(fh, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{line}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise DataError(f"{path}:{line}: each line must be a JSON object")
        yield line, record


def _csv(
    path: Path, fh: Iterable[str], delimiter: str, text_col: str, label_col: str
) -> Iterator[tuple[int, dict[str, object]]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(fh, delimiter=delimiter)
    header = reader.fieldnames or []
    for col in (text_col, label_col):
        if col not in header:
            raise DataError(
                f"{path}:1: no column {col!r} in the header "
                f"(columns: {', '.join(header) or 'none'}); "
                "name the right one with --text-col / --label-col"
            )
    try:
        # A quoted record may span lines: report it at the line where it starts.
        start = reader.line_num + 1
        for record in reader:
            if None in record:
                raise DataError(
                    f"{path}:{start}: more fields than the header has columns"
                )
            yield start, dict(record)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from exc


def _row(
    path: Path, line: int, record: dict[str, object], text_col: str, label_col: str
) -> tuple[Comment, Label]:
    for col in (text_col, label_col):
        if col not in record or record[col] is None:
            raise DataError(f"{path}:{line}: missing {col!r}")
    try:
        label = parse_label(record[label_col])
    except ValueError as exc:
        raise DataError(f"{path}:{line}: {exc}") from None
    request: dict[str, object] = {
        k: v for k, v in record.items() if k not in (text_col, label_col)
    }
    request["content"] = record[text_col]
    _nest_flat_columns(request)
    try:
        return Comment.from_dict(request), label
    except InvalidComment as exc:
        raise DataError(f"{path}:{line}: {exc}") from None


def _nest_flat_columns(request: dict[str, object]) -> None:
    # CSV exports flatten sections: "author.name" or "author_name" -> author["name"].
    # Only known fields move; a CSV cell is text, so numeric fields are parsed here.
    for key in list(request):
        for section, kind in _SECTIONS.items():
            name = _field_of(key, section)
            if name is None or name not in kind:
                continue
            nested = request.setdefault(section, {})
            value = request.pop(key)
            if isinstance(nested, dict) and value not in ("", None):
                nested[name] = _parse_number(value) if kind[name] else value
            break


def _field_of(key: str, section: str) -> str | None:
    for sep in (".", "_"):
        if key.startswith(section + sep):
            return key[len(section) + 1 :]
    return None


def _parse_number(value: object) -> object:
    # Leaves unparsable text in place, so Comment.from_dict names the bad field.
    if isinstance(value, str):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _load_wxr(path: Path) -> LabelledData:
    """Comments of a WordPress export (WXR): approved are ham, spam is spam.

    Each comment keeps its author (name, e-mail, URL, IP), type and parent, and its
    post's title, text and permalink. Pending and trashed comments are skipped: no
    moderator decided them.
    """
    data = LabelledData()
    try:
        for _, item in ElementTree.iterparse(path):
            if item.tag != "item":
                continue
            post = {
                "title": item.findtext("title") or "",
                "text": _strip_tags(item.findtext(_CONTENT) or "")[:2000],
                "permalink": item.findtext("link") or "",
            }
            for c in item.iter(f"{_WP}comment"):
                label = _WXR_LABELS.get(
                    (c.findtext(f"{_WP}comment_approved") or "").strip()
                )
                if label is None:
                    continue
                kind = (c.findtext(f"{_WP}comment_type") or "").strip() or "comment"
                request = {
                    "content": c.findtext(f"{_WP}comment_content") or "",
                    "type": kind,
                    "author": {
                        "name": c.findtext(f"{_WP}comment_author") or "",
                        "email": c.findtext(f"{_WP}comment_author_email") or "",
                        "url": c.findtext(f"{_WP}comment_author_url") or "",
                        "ip": c.findtext(f"{_WP}comment_author_IP") or "",
                    },
                    "post": post,
                    "context": {"parent_id": c.findtext(f"{_WP}comment_parent") or ""},
                }
                try:
                    comment = Comment.from_dict(request)
                except InvalidComment as exc:
                    number = c.findtext(f"{_WP}comment_id") or "?"
                    raise DataError(f"{path}: comment {number}: {exc}") from None
                data.comments.append(comment)
                data.labels.append(label)
                data.sources.append(path.name)
            item.clear()
    except ElementTree.ParseError as exc:
        line, _ = exc.position
        raise DataError(
            f"{path}:{line}: not a well-formed WordPress export ({exc})"
        ) from exc
    return data


def _strip_tags(html_text: str) -> str:
    return " ".join(_TAG_RE.sub(" ", html_text).split())
