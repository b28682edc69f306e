"""Small HTML builders: escaped text, number cells tied to their plan.json key, tables, figures."""

from __future__ import annotations

import html

from .formatting import format_value, pointer, resolve
from .png import data_uri, png_size


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def value_span(data: dict, parts, kind: str) -> str:
    """The formatted value at plan.json path `parts`, marked with its key and format (checked by the tests)."""
    key = pointer(*parts)
    try:
        value = resolve(data, key)
    except (KeyError, IndexError, TypeError):
        value = None
    return f'<span class="value" data-key="{esc(key)}" data-format="{kind}">{esc(format_value(kind, value))}</span>'


def table(rows, *, header=None, css_class: str = "numbers") -> str:
    """rows: lists of cell HTML (already escaped); the first cell of each row is its label."""
    out = [f'<table class="{css_class}">']
    if header:
        out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        out.append("<tr><th scope=\"row\">" + row[0] + "</th>" + "".join(f"<td>{c}</td>" for c in row[1:]) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def verdict_badge(verdict) -> str:
    text = str(verdict or "n/a")
    css = text.lower() if text.lower() in ("pass", "warn", "fail") else "unknown"
    return f'<span class="verdict {css}">{esc(text)}</span>'


def figure(png: bytes, *, alt: str, caption: str, css_class: str = "", display_scale: int = 1) -> str:
    """A picture embedded as a data: URI; display_scale enlarges small diagrams on screen (pixels kept sharp)."""
    width, height = png_size(png)
    return (f'<figure class="{css_class}"><img src="{data_uri(png)}" width="{width * display_scale}" '
            f'height="{height * display_scale}" alt="{esc(alt)}"><figcaption>{caption}</figcaption></figure>')


def note(text: str, css_class: str = "not-run") -> str:
    return f'<p class="{css_class}">{esc(text)}</p>'
