"""Shared fixtures: named mini-corpora, a model trained on them once per session,
settings pointing at temporary directories, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from moderation.artifact import save_model
from moderation.comment import Comment, Label
from moderation.config import Settings, load_settings
from moderation.moderator import Moderator
from moderation.training import TrainingOptions, train

LINK_SPAM = [
    "Cheap followers here http://followers.example.com buy now",
    "Visit my site http://cheap-pills.example.net for discount meds",
    "Check out my channel and subscribe http://youtube.example.com/c/bestvids",
    "Earn $500 a day from home, details at http://jobs.example.org",
    "Buy 10k Instagram followers cheap at http://growfast.example.com !!!",
    "CLICK HERE for free iPhone giveaway http://bit.ly/xyz123",
    "Best casino bonus, play now http://slots.example.ru",
    "Need essay writing help? http://essays.example.com cheap and fast",
    "Call +1 800 555 0199 for QuickBooks support 24/7",
    "WhatsApp +2348123456789 to invest in bitcoin with Mr Jones, I earned $8000",
    "follow me and I follow back!! http://insta.example.com/me",
    "Hot singles near you http://dating.example.net click now",
    "sub 4 sub? check my channel http://yt.example.com/myvids",
    "Get rich with forex signals, join http://t.example.me/forexvip",
    "Loan approved in 5 minutes, apply http://fastloan.example.com",
    "Lose 20 pounds in 2 weeks http://diet.example.com pills",
    "Free movies online HD http://watchfree.example.xyz",
    "My new video is up, please subscribe to my channel http://vid.example.com",
    "Cheap replica watches http://replica.example.com best prices",
    "I make $90 an hour on my laptop, see http://workhome.example.org",
]
GENERIC_PRAISE = [
    "Great post, thanks for sharing!",
    "Very informative article, keep it up",
    "Nice blog!",
    "This is really helpful information",
    "Awesome post, bookmarked",
    "first!",
    "nice",
    "Good job admin",
    "I like your writing style",
    "Keep posting such content",
    "wow just wow",
    "Thanks for sharing this",
    "Very nice article",
    "Great work, keep going",
    "Amazing content as always",
]
REAL_READERS = [
    "Thanks, this fixed my build.",
    "Does this work on ARM? My Raspberry Pi throws a segfault on step 3.",
    "I used oat milk instead and the batter curdled, any idea why?",
    "The chart in section 2 is mislabeled, the y axis should be percent.",
    "We paid off 23k in 18 months using the snowball method you describe.",
    "Source for the 40% figure? The census report says 34%.",
    "Step 3 should be 180 C not 180 F, my cake was raw inside.",
    "The ferry from Split to Hvar cost us 14 euros last July.",
    "I disagree about the tax cut, it mostly helps landlords.",
    "The --no-cache flag did it for me, thanks Maria.",
    "My daughter loved the sourdough workshop, will you run another in spring?",
    "Is the trail still closed after the storm? We planned to hike Saturday.",
    "Postgres 16 changed that default, so the tuning advice is outdated now.",
    "The bridge at 2:40 is the best part of the whole album.",
    "I tried the flaxseed seasoning on my cast iron and it flaked after a week.",
    "Running late, save me a seat at the meetup please.",
    "Your point about index funds ignores fees in Europe, they are much higher.",
    "The docs at https://docs.python.org/3/library/csv.html explain the quoting rule.",
    "Swapped the butter for coconut oil and it worked fine.",
    "Which lens did you use for the harbour photo at dusk?",
]


def _labelled() -> tuple[list[Comment], list[Label]]:
    comments: list[Comment] = []
    labels: list[Label] = []
    for texts, label in (
        (LINK_SPAM, Label.SPAM),
        (GENERIC_PRAISE, Label.LOW_VALUE),
        (REAL_READERS, Label.HAM),
    ):
        comments += [Comment(content=t) for t in texts]
        labels += [label] * len(texts)
    return comments, labels


def write_mini_corpus(path: Path) -> Path:
    """Write the three mini-corpora as a labelled CSV (a base corpus for retraining)."""
    rows = ["content,label"]
    for texts, label in (
        (LINK_SPAM, "spam"),
        (GENERIC_PRAISE, "low_value"),
        (REAL_READERS, "ham"),
    ):
        rows += [f'"{t}",{label}' for t in texts]
    path.write_text("\n".join(rows) + "\n")
    return path


MINI_OPTIONS = TrainingOptions(folds=3, C_grid=(10.0,), n_jobs=1)


@pytest.fixture(scope="session")
def corpus() -> tuple[list[Comment], list[Label]]:
    """The three mini-corpora as comments and labels."""
    return _labelled()


@pytest.fixture(scope="session")
def trained_model(corpus):
    """A model trained once per session on the mini-corpora (seconds)."""
    comments, labels = corpus
    return train(comments, labels, options=MINI_OPTIONS)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, trained_model) -> Path:
    """A models directory holding the session model as its current version."""
    path = tmp_path_factory.mktemp("home") / "models"
    save_model(trained_model, path, {"files": ["mini"], "sha256": "0" * 64, "n": 55})
    return path


@pytest.fixture(scope="session")
def moderator(models_dir) -> Moderator:
    return Moderator.load(models_dir)


@pytest.fixture
def settings(tmp_path, models_dir) -> Settings:
    """Settings for one test: an empty home, the session's models directory."""
    return load_settings(environ={}, home=tmp_path, models_dir=models_dir)


@pytest.fixture
def runner(monkeypatch, tmp_path, models_dir) -> CliRunner:
    """A CLI runner whose environment points at the session model and a temp home."""
    for name in ("MODERATION_CONFIG", "MODERATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODERATION_HOME", str(tmp_path))
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    return CliRunner()


# --- service fixtures (issue 3) -------------------------------------------------------


@pytest.fixture
def app(settings):
    """The ``create_app`` service over the session model and a temp SQLite store."""
    from service import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def engine(app):
    """The app's store engine."""
    return app.extensions["moderation"].engine


@pytest.fixture
def api_key(engine) -> str:
    """A valid 12-character key for https://blog.example."""
    from moderation.store import create_key

    key, _ = create_key(engine, "https://blog.example")
    return key


@pytest.fixture
def auth(api_key) -> dict[str, str]:
    """Headers carrying the valid key."""
    return {"Authorization": f"Bearer {api_key}"}
