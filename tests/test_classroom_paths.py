"""Where the classroom finds the book: from the working directory, from --source, or it says
what to do (an installed package outside a clone; the run from the wheel is in test_wheel.py)."""
import pathlib

import pytest

from cnnlib.classroom import cli, notebooks

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_book_is_found_from_any_folder_inside_it():
    assert notebooks.find_book(ROOT / "chapters" / "6-4-cnn") == ROOT
    assert notebooks.find_book(ROOT) == ROOT


def test_a_folder_of_notebooks_is_taken_as_given():
    assert notebooks.chapters_folder(ROOT / "chapters") == ROOT / "chapters"
    assert notebooks.chapters_folder(str(ROOT / "chapters" / "6-5-landmarks")) == ROOT / "chapters" / "6-5-landmarks"


def test_a_folder_without_notebooks_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match=r"source must be a folder holding the book's notebooks, got '.*empty'.*"
                                         r"Run inside a clone of the book.*--source PATH"):
        notebooks.chapters_folder(tmp_path / "empty")


def test_the_command_line_reports_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["list", "--source", str(tmp_path)])
    assert stop.value.code == 2
    assert "source must be a folder holding the book's notebooks" in capsys.readouterr().err
