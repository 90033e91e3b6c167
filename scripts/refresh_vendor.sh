#!/usr/bin/env bash
# Refresh the JavaScript the rendered book serves itself (assets/vendor/), so that a local
# build works with no internet. Sources: the npm registry (`npm pack`, nothing is installed)
# and, for the check that anywidget's front-end matches, the installed Python package.
#
#   scripts/refresh_vendor.sh            # versions pinned below
#   MATHJAX=3.2.2 scripts/refresh_vendor.sh
#
# Afterwards: rebuild the book and run `make browser` (tests/browser) to see that every page
# still loads with no external request.
set -euo pipefail
cd "$(dirname "$0")/.."

MATHJAX=${MATHJAX:-3.2.2}            # npm mathjax@3, Apache-2.0
REQUIREJS=${REQUIREJS:-2.3.8}        # npm requirejs, MIT
HTML_MANAGER=${HTML_MANAGER:-1.0.15} # npm @jupyter-widgets/html-manager (ipywidgets 8), BSD-3-Clause
PY=${PYTHON:-.venv/bin/python}
# anywidget's front-end must match the Python package that writes the widget state.
ANYWIDGET=${ANYWIDGET:-$("$PY" -c 'from importlib.metadata import version; print(version("anywidget"))')}

DEST=assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch <npm spec> <dir>: npm pack into $work/<dir>/package
    (cd "$work" && npm pack --silent "$1" >/dev/null)
    mkdir -p "$work/$2"
    tar xzf "$work"/$(cd "$work" && ls -t ./*.tgz | head -1) -C "$work/$2"
    rm -f "$work"/*.tgz
}
fetch "mathjax@$MATHJAX" mathjax
fetch "requirejs@$REQUIREJS" requirejs
fetch "@jupyter-widgets/html-manager@$HTML_MANAGER" html-manager
fetch "anywidget@$ANYWIDGET" anywidget

rm -rf "$DEST/mathjax" "$DEST/requirejs" "$DEST/html-manager" "$DEST/anywidget"
mkdir -p "$DEST/mathjax" "$DEST/requirejs" "$DEST/html-manager" "$DEST/anywidget"

# MathJax: the combined TeX+MathML -> CommonHTML component, the TeX extensions it autoloads,
# its fonts, the menu and the accessibility components. Not the speech-rule engine (sre/,
# 4 MB, only loaded when a reader turns on speech in the MathJax menu).
m="$work/mathjax/package"
cp "$m/LICENSE" "$m/es5/tex-mml-chtml.js" "$DEST/mathjax/"
mkdir -p "$DEST/mathjax/input" "$DEST/mathjax/output"
cp -r "$m/es5/input/tex" "$m/es5/input/mml" "$DEST/mathjax/input/"
cp -r "$m/es5/output/chtml" "$DEST/mathjax/output/"
cp -r "$m/es5/ui" "$m/es5/a11y" "$DEST/mathjax/"

# require.js: the package ships no LICENSE file; its header names MIT, the text is below.
cp "$work/requirejs/package/require.js" "$DEST/requirejs/"
cat > "$DEST/requirejs/LICENSE" <<'LIC'
MIT License

Copyright jQuery Foundation and other contributors, https://jquery.org/

This software consists of voluntary contributions made by many individuals. For exact
contribution history, see the revision history available at
https://github.com/requirejs/requirejs

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
LIC

# html-manager: embed-amd.js (ipywidgets' controls bundled in) and the Font Awesome fonts it
# references relative to itself (woff2/woff only: every current browser takes one of those).
# The npm package ships no LICENSE file: ipywidgets' BSD-3-Clause text comes from the
# installed Python package of the same project.
h="$work/html-manager/package/dist"
cp "$h/embed-amd.js" "$h/embed.js.LICENSE.txt" "$DEST/html-manager/"
cp "$h"/*.woff2 "$h"/*.woff "$DEST/html-manager/"
"$PY" - "$DEST/html-manager/LICENSE" <<'PYEOF'
import sys
from importlib.metadata import distribution
dist = distribution("ipywidgets")
lic = [f for f in dist.files if f.name.startswith("LICENSE")]
open(sys.argv[1], "w").write(lic[0].read_text())
PYEOF

# anywidget: dist/index.js is an AMD module, define(["@jupyter-widgets/base"], ...), which
# the html-manager loads through require.js (see widgets-offline.js).
cp "$work/anywidget/package/LICENSE" "$work/anywidget/package/dist/index.js" "$DEST/anywidget/"

# Record the versions for README.md and the tests.
cat > "$DEST/versions.json" <<JSON
{
  "mathjax": "$MATHJAX",
  "requirejs": "$REQUIREJS",
  "@jupyter-widgets/html-manager": "$HTML_MANAGER",
  "anywidget": "$ANYWIDGET"
}
JSON
du -sh "$DEST"
echo "refreshed $DEST: mathjax $MATHJAX, requirejs $REQUIREJS, html-manager $HTML_MANAGER, anywidget $ANYWIDGET"
