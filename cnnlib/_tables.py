"""A tiny table renderer shared by the row-returning functions of cnnlib (text, Markdown, HTML)."""
from __future__ import annotations

import html

__all__ = ["render_text", "render_markdown", "render_html"]


def render_text(header, rows, footer=()) -> str:
    """Columns padded to a common width; numbers right-aligned, text left-aligned.

    >>> print(render_text(["a", "b"], [["x", "1"], ["yy", "22"]]))
    a    b
    x    1
    yy  22
    """
    table = [list(map(str, header))] + [list(map(str, r)) for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]

    def fmt(row):
        cells = []
        for cell, w in zip(row, widths):
            numeric = cell.replace(",", "").replace(".", "").replace("-", "").replace(" ", "").replace("×", "").isdigit()
            cells.append(cell.rjust(w) if numeric else cell.ljust(w))
        return "  ".join(cells).rstrip()

    lines = [fmt(r) for r in table] + [str(f) for f in footer]
    return "\n".join(lines)


def render_markdown(header, rows, footer=()) -> str:
    """A GitHub/MyST Markdown table, then footer lines.

    >>> print(render_markdown(["a"], [["1"]]))
    | a |
    | --- |
    | 1 |
    """
    lines = ["| " + " | ".join(map(str, header)) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    if footer:
        lines += [""] + [str(f) for f in footer]
    return "\n".join(lines)


def render_html(header, rows, footer=(), *, caption: str | None = None) -> str:
    """An HTML table; a row given as a single string spans all columns.

    >>> render_html(["a"], [["1"]])
    '<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
    """
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr></thead><tbody>")
    for row in rows:
        if isinstance(row, str):
            parts.append(f"<tr><td colspan='{len(header)}' style='text-align:center'><em>{html.escape(row)}</em></td></tr>")
        else:
            parts.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    parts.append("</tbody>")
    if footer:
        parts.append("<tfoot>" + "".join(f"<tr><td colspan='{len(header)}'>{html.escape(str(f))}</td></tr>" for f in footer) + "</tfoot>")
    parts.append("</table>")
    return "".join(parts)
