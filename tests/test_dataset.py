"""Loading labelled comments; every problem names the file and the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderation.comment import Label
from moderation.dataset import data_files, load_labelled
from moderation.errors import DataError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, *records: object) -> Path:
    return _write(path, "".join(json.dumps(r) + "\n" for r in records))


def test_csv_with_a_header_row(tmp_path):
    path = _write(
        tmp_path / "a.csv",
        "content,label\n"
        "Buy now http://x.example.com,spam\n"
        '"Thanks, that fixed it",ham\n',
    )
    data = load_labelled([path])
    assert [c.content for c in data.comments] == [
        "Buy now http://x.example.com",
        "Thanks, that fixed it",
    ]
    assert data.labels == [Label.SPAM, Label.HAM]
    assert data.sources == ["a.csv", "a.csv"]


def test_tsv_with_a_header_row(tmp_path):
    path = _write(tmp_path / "a.tsv", "content\tlabel\nnice post, thanks\tlow_value\n")
    data = load_labelled([path])
    assert data.comments[0].content == "nice post, thanks"
    assert data.labels == [Label.LOW_VALUE]


def test_jsonl_keeps_request_metadata_and_skips_blank_lines(tmp_path):
    path = _write(
        tmp_path / "a.jsonl",
        json.dumps({"content": "hi", "label": "spam", "author": {"followers": 3}})
        + "\n\n"
        + json.dumps({"content": "yo", "label": "ham", "unknown": "ignored"})
        + "\n",
    )
    data = load_labelled([path])
    assert [c.content for c in data.comments] == ["hi", "yo"]
    assert data.comments[0].author.followers == 3
    assert data.labels == [Label.SPAM, Label.HAM]


def test_custom_text_and_label_columns(tmp_path):
    path = _write(tmp_path / "a.csv", "body,class\nhello there,0\n")
    data = load_labelled([path], text_col="body", label_col="class")
    assert data.comments[0].content == "hello there"
    assert data.labels == [Label.HAM]


def test_directory_is_searched_recursively_in_name_order(tmp_path):
    _write(tmp_path / "b.csv", "content,label\nsecond,ham\n")
    (tmp_path / "sub").mkdir()
    _jsonl(tmp_path / "sub" / "c.jsonl", {"content": "third", "label": "spam"})
    _write(tmp_path / "a.tsv", "content\tlabel\nfirst\tspam\n")
    _write(tmp_path / "notes.txt", "not data")
    data = load_labelled([tmp_path])
    assert [c.content for c in data.comments] == ["first", "second", "third"]
    assert data.sources == ["a.tsv", "b.csv", "c.jsonl"]
    assert [p.name for p in data_files([tmp_path])] == ["a.tsv", "b.csv", "c.jsonl"]


def test_empty_directory_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no data files in this folder"):
        load_labelled([tmp_path])


def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file or folder"):
        load_labelled([tmp_path / "nope.csv"])


def test_unknown_file_type_is_an_error(tmp_path):
    path = _write(tmp_path / "a.txt", "content,label\n")
    with pytest.raises(DataError, match=r"a\.txt: unknown file type '\.txt'"):
        load_labelled([path])


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("spam", Label.SPAM),
        ("SPAM", Label.SPAM),
        ("1", Label.SPAM),
        ("true", Label.SPAM),
        ("True", Label.SPAM),
        ("ham", Label.HAM),
        ("0", Label.HAM),
        ("false", Label.HAM),
        ("FALSE", Label.HAM),
        ("low_value", Label.LOW_VALUE),
        ("low-value", Label.LOW_VALUE),
        ("Low-Value", Label.LOW_VALUE),
        (" ham ", Label.HAM),
    ],
)
def test_label_aliases_in_csv(tmp_path, raw, label):
    path = _write(tmp_path / "a.csv", f'content,label\nsome text,"{raw}"\n')
    assert load_labelled([path]).labels == [label]


@pytest.mark.parametrize(
    ("raw", "label"),
    [(1, Label.SPAM), (0, Label.HAM), (True, Label.SPAM), (False, Label.HAM)],
)
def test_label_aliases_as_json_numbers_and_booleans(tmp_path, raw, label):
    path = _jsonl(tmp_path / "a.jsonl", {"content": "x", "label": raw})
    assert load_labelled([path]).labels == [label]


def test_unknown_label_names_file_line_and_value(tmp_path):
    path = _write(tmp_path / "a.csv", "content,label\nfine,ham\nhmm,maybe\n")
    with pytest.raises(DataError, match=r"a\.csv:3: unknown label 'maybe'; use spam"):
        load_labelled([path])


def test_missing_column_in_the_header_names_file_line_and_column(tmp_path):
    path = _write(tmp_path / "a.csv", "text,label\nhello,spam\n")
    with pytest.raises(DataError) as info:
        load_labelled([path])
    message = str(info.value)
    assert message.startswith(f"{path}:1: no column 'content' in the header")
    assert "columns: text, label" in message
    assert "--text-col" in message


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = _write(
        tmp_path / "a.jsonl",
        '{"content": "ok", "label": "ham"}\n{"content": "x", "label"\n',
    )
    with pytest.raises(DataError, match=r"a\.jsonl:2: not valid JSON"):
        load_labelled([path])


def test_json_line_that_is_not_an_object_names_file_and_line(tmp_path):
    path = _write(
        tmp_path / "a.jsonl", '{"content": "ok", "label": "ham"}\n["x", "spam"]\n'
    )
    with pytest.raises(DataError, match=r"a\.jsonl:2: each line must be a JSON object"):
        load_labelled([path])


def test_csv_row_with_too_many_fields_names_file_and_line(tmp_path):
    path = _write(tmp_path / "a.csv", "content,label\nhi,spam\nyo,ham,extra\n")
    with pytest.raises(DataError, match=r"a\.csv:3: more fields than the header"):
        load_labelled([path])


def test_csv_row_with_too_few_fields_names_file_line_and_column(tmp_path):
    path = _write(tmp_path / "a.csv", "content,label\nhi,spam\nlonely\n")
    with pytest.raises(DataError, match=r"a\.csv:3: missing 'label'"):
        load_labelled([path])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"content": "x", "label": "spam", "author": {"followers": "many"}},
            "'author.followers' must be a number, not str",
        ),
        (
            {"content": "x", "label": "spam", "author": "bob"},
            "'author' must be a JSON object",
        ),
        (
            {"content": "x", "label": "spam", "author": {"name": 7}},
            "'author.name' must be a string, not int",
        ),
        ({"content": 5, "label": "spam"}, "'content' must be a string, not int"),
        ({"label": "spam"}, "missing 'content'"),
    ],
)
def test_wrong_type_in_a_jsonl_record_names_file_line_and_field(
    tmp_path, record, message
):
    path = _jsonl(tmp_path / "a.jsonl", {"content": "fine", "label": "ham"}, record)
    with pytest.raises(DataError) as info:
        load_labelled([path])
    assert str(info.value) == f"{path}:2: {message}"


def test_errors_in_a_later_file_name_that_file(tmp_path):
    _write(tmp_path / "a.csv", "content,label\nfine,ham\n")
    _write(tmp_path / "b.csv", "content,label\nfine,ham\nbad,nope\n")
    with pytest.raises(DataError, match=r"b\.csv:3: unknown label"):
        load_labelled([tmp_path])


@pytest.mark.parametrize("column", ["author.followers", "author_followers"])
def test_metadata_columns_are_parsed_as_numbers(tmp_path, column):
    path = _write(
        tmp_path / "a.csv",
        f"content,label,{column},author.account_age_days,context_seconds_to_submit,author.name\n"
        'hi,spam,"1,200",2.5,3,bob\n'
        "yo,ham,,,,\n",
    )
    first, second = load_labelled([path]).comments
    assert first.author.followers == 1200
    assert isinstance(first.author.followers, int)
    assert first.author.account_age_days == 2.5
    assert first.context.seconds_to_submit == 3.0
    assert first.author.name == "bob"
    assert second.author.followers is None
    assert second.author.name == ""


def test_unparsable_number_column_names_file_line_and_field(tmp_path):
    path = _write(tmp_path / "a.csv", "content,label,author_followers\nhi,spam,lots\n")
    with pytest.raises(
        DataError, match=r"a\.csv:2: 'author\.followers' must be a number"
    ):
        load_labelled([path])


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffcontent,label\r\nhi,spam\r\n".encode())
    data = load_labelled([path])
    assert data.comments[0].content == "hi"
    assert data.labels == [Label.SPAM]


def test_invalid_utf8_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"content,label\n\xff\xfe,spam\n")
    with pytest.raises(DataError, match=r"a\.csv: not valid UTF-8"):
        load_labelled([path])


def test_counts_and_digest_identify_the_data(tmp_path):
    path = _write(tmp_path / "a.csv", "content,label\na,spam\nb,ham\nc,ham\n")
    data = load_labelled([path])
    assert data.counts() == {"spam": 1, "low_value": 0, "ham": 2}
    assert data.digest() == load_labelled([path]).digest()
    other = _write(tmp_path / "b.csv", "content,label\na,spam\nb,ham\nc,spam\n")
    assert load_labelled([other]).digest() != data.digest()


def test_wordpress_status_approved_reads_as_ham(tmp_path):
    """An export's `status` column with `approved` trains as ham, `spam` as spam."""
    path = tmp_path / "export.csv"
    path.write_text("body,status\nNice fix for the cron job,approved\nbuy pills,spam\n")
    data = load_labelled([path], text_col="body", label_col="status")
    assert [label.value for label in data.labels] == ["ham", "spam"]


def test_a_multi_line_csv_record_is_reported_at_its_first_line(tmp_path):
    """A quoted record over lines 2-3 with a bad label is reported as line 2."""
    path = tmp_path / "multi.csv"
    path.write_text('content,label\n"first line\nsecond line",maybe\n')
    with pytest.raises(DataError, match=r"multi\.csv:2: unknown label"):
        load_labelled([path])


WXR = Path(__file__).parent / "data" / "wordpress-export.xml"


def test_wordpress_export_approved_is_ham_spam_is_spam_pending_and_trash_skipped():
    """A WXR export trains as it is: 1 -> ham, spam -> spam; 0 and trash skipped."""
    data = load_labelled([WXR])
    assert [label.value for label in data.labels] == ["ham", "spam", "ham", "spam"]
    first, spam = data.comments[0], data.comments[1]
    assert first.author.name == "Tomás" and first.author.ip == "198.51.100.7"
    assert first.post.title == "Feeding a rye sourdough starter"
    assert first.post.text == "Feed the rye starter twice a day at 1:2:2."
    assert spam.author.url == "http://essays.example.com"
    assert data.comments[2].context.parent_id == "101"
    assert data.comments[3].type == "pingback"


def test_a_broken_wordpress_export_names_file_and_line(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<rss>\n<channel>\n<item><title>x</title>\n</channel></rss>\n")
    with pytest.raises(DataError, match=r"broken\.xml:4: not a well-formed"):
        load_labelled([path])
