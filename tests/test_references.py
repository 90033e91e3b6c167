"""The bibliography `references.bib`: the chapter's entries [1]-[70], and every citation resolves.

The book builds with ``-W -n``, so an unknown ``{cite}`` key would fail the build; this test
finds it sooner and names the page and the key.
"""

import json
import re
import warnings
from pathlib import Path

import pytest

pybtex_database = pytest.importorskip("pybtex.database")

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "references.bib"

# surname + four-digit year + first significant title word, all lowercase ASCII.
KEY_PATTERN = re.compile(r"^[a-z]+(19|20)\d{2}[a-z0-9]+$")
NOTE_PATTERN = re.compile(r"^Chapter 6 reference \[(\d+)\]$")
# Works the book cites beyond the chapter's bibliography come after [70], with this note.
EXTRA_NOTE = "Not in Chapter 6: cited by the book"
# {cite}`a`, {cite:p}`a,b`, {cite:t}`a, b`, {cite:ps}`a` ...
CITE_PATTERN = re.compile(r"\{cite(?::[a-z]+)?\}`([^`{}]*)`")
# Markdown files that the book does not render (the contributor guide shows `{cite}`key``).
NOT_BOOK_PAGES = {"README.md", "CONTRIBUTING.md"}


def load_bib(path=BIB):
    """Parse a .bib file with pybtex, turning any pybtex warning into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return pybtex_database.parse_file(str(path), bib_format="bibtex")


def cited_keys(text):
    """Return the keys cited in MyST text, in order of appearance."""
    keys = []
    for group in CITE_PATTERN.findall(text):
        keys.extend(k.strip() for k in group.split(",") if k.strip())
    return keys


def markdown_of_notebook(path):
    """Return the markdown cells of a notebook, joined."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return "\n".join(
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in nb.get("cells", [])
        if cell.get("cell_type") == "markdown"
    )


def book_sources(root=ROOT):
    """Yield (path, text) for every page source: chapter notebooks and markdown files."""
    for path in sorted((root / "chapters").rglob("*.ipynb")):
        if ".ipynb_checkpoints" not in path.parts:
            yield path, markdown_of_notebook(path)
    for path in sorted((root / "chapters").rglob("*.md")):
        yield path, path.read_text(encoding="utf-8")
    for path in sorted(root.glob("*.md")):
        if path.name not in NOT_BOOK_PAGES:
            yield path, path.read_text(encoding="utf-8")


def missing_citations(keys, root=ROOT):
    """Return ``[(page, key), ...]`` for citations whose key is not in ``keys``."""
    return [
        (str(path.relative_to(root)), key)
        for path, text in book_sources(root)
        for key in cited_keys(text)
        if key not in keys
    ]


@pytest.fixture(scope="module")
def bib():
    return load_bib()


def test_bib_parses_without_warnings(bib):
    assert len(bib.entries) > 0


def chapter_entries(bib):
    """The entries of the chapter's bibliography (note 'Chapter 6 reference [N]')."""
    return {k: e for k, e in bib.entries.items() if NOTE_PATTERN.match(e.fields.get("note", ""))}


def test_exactly_seventy_chapter_entries(bib):
    assert len(chapter_entries(bib)) == 70


def test_notes_number_one_to_seventy_each_once(bib):
    numbers = []
    for key, entry in bib.entries.items():
        note = entry.fields.get("note", "")
        match = NOTE_PATTERN.match(note)
        assert match or note == EXTRA_NOTE, f"{key}: note should read 'Chapter 6 reference [N]' or {EXTRA_NOTE!r}"
        if match:
            numbers.append(int(match.group(1)))
    assert sorted(numbers) == list(range(1, 71))


def test_entries_appear_in_chapter_order(bib):
    """[1]-[70] in the chapter's order, then the book's own additions."""
    notes = [e.fields["note"] for e in bib.entries.values()]
    numbers = [int(NOTE_PATTERN.match(n).group(1)) for n in notes[:70]]
    assert numbers == list(range(1, 71))
    assert all(n == EXTRA_NOTE for n in notes[70:])


def test_keys_unique_and_of_the_pattern():
    text = BIB.read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,\s]+),", text, flags=re.M)
    assert len(keys) >= 70
    assert len(set(k.lower() for k in keys)) == len(keys), "duplicate keys"
    bad = [k for k in keys if not KEY_PATTERN.match(k)]
    assert not bad, f"keys not of the form surnameYEARword: {bad}"


def test_key_year_matches_year_field(bib):
    for key, entry in bib.entries.items():
        assert re.search(r"\d{4}", key).group(0) == entry.fields["year"], key


def test_key_starts_with_first_author_surname(bib):
    for key, entry in bib.entries.items():
        last = " ".join(entry.persons["author"][0].last_names)
        plain = re.sub(r"[^a-z]", "", last.lower().replace('{\\"a}', "a").replace('{\\"u}', "u"))
        assert plain.startswith(re.match(r"[a-z]+", key).group(0)) or key.startswith(plain), key


@pytest.mark.parametrize(
    "key",
    [
        "lecun1998gradient", "simonyan2014very", "krizhevsky2012imagenet", "he2016deep",
        "szegedy2015going", "zeiler2014visualizing", "ioffe2015batch", "wu2018group",
        "srivastava2014dropout", "tan2019efficientnet", "fukushima1980neocognitron",
    ],
)
def test_keys_other_pages_rely_on(bib, key):
    assert key in bib.entries


@pytest.mark.parametrize(
    "entry_type, required",
    [
        ("article", {"author", "title", "journal", "year"}),
        ("inproceedings", {"author", "title", "booktitle", "year"}),
        ("incollection", {"author", "title", "booktitle", "publisher", "year"}),
        ("book", {"author", "title", "publisher", "year"}),
        ("techreport", {"author", "title", "institution", "year"}),
        ("misc", {"author", "title", "howpublished", "year"}),
    ],
)
def test_required_fields_by_type(bib, entry_type, required):
    for key, entry in bib.entries.items():
        if entry.type == entry_type:
            have = set(f.lower() for f in entry.fields) | set(entry.persons)
            assert required <= have, f"{key} lacks {required - have}"


def test_entries_format_with_sphinx_bibtex_style(bib):
    # sphinxcontrib-bibtex formats with pybtex's styles; a missing field raises here.
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", "unsrt")()
    assert len(list(style.format_entries(bib.entries.values()))) == len(bib.entries)


def test_every_cited_key_exists(bib):
    assert missing_citations(set(bib.entries)) == []


# --- the checks themselves can fail -------------------------------------------------------


def test_cited_keys_parses_roles():
    text = "see {cite}`a2001b` and {cite:p}`c2002d, e2003f` but not `{cite}` alone {cite:t}`g2004h`"
    assert cited_keys(text) == ["a2001b", "c2002d", "e2003f", "g2004h"]


def test_missing_citation_in_a_notebook_is_found(tmp_path):
    (tmp_path / "chapters" / "sub").mkdir(parents=True)
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["Known {cite}`lecun1998gradient`,\n",
                                                                 "unknown {cite}`nobody2099nothing`."]},
            {"cell_type": "code", "metadata": {}, "source": "# {cite}`codecells2000ignored`",
             "outputs": [], "execution_count": None},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    (tmp_path / "chapters" / "sub" / "page.ipynb").write_text(json.dumps(nb))
    (tmp_path / "intro.md").write_text("{cite}`intro2001missing`")
    (tmp_path / "CONTRIBUTING.md").write_text("{cite}`key`")
    assert missing_citations({"lecun1998gradient"}, root=tmp_path) == [
        ("chapters/sub/page.ipynb", "nobody2099nothing"),
        ("intro.md", "intro2001missing"),
    ]


def test_bad_bib_is_rejected(tmp_path):
    bad = tmp_path / "bad.bib"
    bad.write_text("@article{dup2000x, title={A}, year={2000}}\n@article{dup2000x, title={B}, year={2000}}\n")
    with pytest.raises(Exception, match="(?i)repeated|duplicate"):
        load_bib(bad)


def test_note_pattern_rejects_other_wording():
    assert NOTE_PATTERN.match("Chapter 6 reference [12]")
    assert not NOTE_PATTERN.match("Chapter 6 ref [12]")
    assert not KEY_PATTERN.match("LeCun1998gradient")
    assert not KEY_PATTERN.match("lecun98gradient")
