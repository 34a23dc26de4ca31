"""README.md stays true: every setting and every command is documented there."""

from __future__ import annotations

from pathlib import Path

import click

from moderation.cli import cli
from moderation.config import setting_docs

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(
    encoding="utf-8"
)


def test_readme_documents_every_setting():
    """Each MODERATION_* variable appears in README's configuration table."""
    missing = [env for env, _, _ in setting_docs() if f"`{env}`" not in README]
    assert not missing, f"README.md does not document: {', '.join(missing)}"


def test_readme_documents_every_command():
    """Each `moderation` command (and sub-command) is named in README."""
    names = []
    for name, command in cli.commands.items():
        if isinstance(command, click.Group):
            names += [f"moderation {name} {sub}" for sub in command.commands]
        else:
            names.append(f"moderation {name}")
    missing = [n for n in names if n not in README]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"


def test_readme_opens_with_the_two_commands():
    """The first two code blocks are: set up and serve; set up and run the tests."""
    blocks = README.split("```")[1::2]
    assert "moderation serve" in blocks[0]
    assert "python -m pytest" in blocks[1]
