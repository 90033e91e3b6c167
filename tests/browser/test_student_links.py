"""The launch menu links each notebook page's student edition (assets/student-links.js).

The first test needs no built book: it loads a page with sphinx-book-theme's launch-menu
markup (as its macros/buttons.html renders it) and the script; the second checks every
notebook page of a built book (``make book``) when there is one.
"""
import pathlib
import shutil

import pytest

import checks
from conftest import CONFIG, ROOT

SCRIPT = ROOT / "assets" / "student-links.js"
NB = "chapters/6-2-convolution/index.ipynb"
OWNER_REPO = CONFIG["repository"]["url"].rstrip("/").split("github.com/")[-1]
BRANCH = CONFIG["repository"].get("branch", "main")

MENU = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>
<div class="dropdown dropdown-launch-buttons">
  <button class="btn dropdown-toggle" type="button" aria-label="Launch interactive content"></button>
  <ul class="dropdown-menu">
    <li><a href="https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=tree/{nb}" target="_blank"
       class="btn btn-sm dropdown-item" title="Launch on Binder" data-bs-placement="left" data-bs-toggle="tooltip">
      <span class="btn__icon-container"></span><span class="btn__text-container">Binder</span></a></li>
    <li><a href="https://colab.research.google.com/github/{repo}/blob/{branch}/{nb}" target="_blank"
       class="btn btn-sm dropdown-item" title="Launch on Colab" data-bs-placement="left" data-bs-toggle="tooltip">
      <span class="btn__icon-container"></span><span class="btn__text-container">Colab</span></a></li>
  </ul>
</div>
<script src="student-links.js"></script>
</body></html>"""


def _student_links(page):
    return page.evaluate("""() => [...document.querySelectorAll('a.cnnbook-student-launch')].map(a => [
        a.href, a.querySelector('.btn__text-container').textContent, a.closest('ul').className])""")


def test_launch_menu_gets_student_links(browser, tmp_path):
    (tmp_path / "page.html").write_text(MENU.format(repo=OWNER_REPO, branch=BRANCH, nb=NB), encoding="utf-8")
    shutil.copy(SCRIPT, tmp_path / "student-links.js")
    with checks.serve(tmp_path) as base:
        context = checks.new_context(browser)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "page.html")
        links = _student_links(page)
        assert not errors and not context.external_requests
        context.close()
    assert links == [
        [f"https://mybinder.org/v2/gh/{OWNER_REPO}/student?urlpath=tree/{NB}", "Binder: student notebook", "dropdown-menu"],
        [f"https://colab.research.google.com/github/{OWNER_REPO}/blob/student/{NB}", "Colab: student notebook",
         "dropdown-menu"],
    ]


def test_built_notebook_pages_link_their_student_notebook(browser, html_dir):
    pages = [p for p in checks.discover_pages(html_dir)
             if (html_dir / "_sources" / pathlib.PurePosixPath(p).with_suffix(".ipynb")).exists()]
    if not pages:
        pytest.skip("no notebook pages in the build")
    problems = []
    with checks.serve(html_dir) as base:
        context = checks.new_context(browser)
        page = context.new_page()
        for rel in pages:
            page.goto(base + rel)
            nb = pathlib.PurePosixPath(rel).with_suffix(".ipynb").as_posix()
            hrefs = [h for h, _, _ in _student_links(page)]
            for want in (f"https://mybinder.org/v2/gh/{OWNER_REPO}/student?urlpath=tree/{nb}",
                         f"https://colab.research.google.com/github/{OWNER_REPO}/blob/student/{nb}"):
                if want not in hrefs:
                    problems.append(f"{rel}: no student link {want}")
        context.close()
    assert not problems, "\n".join(problems)
