"""The report's markup, escaped by construction: every string a user chose (study, metric and
parameter names, choice values, error messages) goes in through these functions only, which
escape it; the page's own tags are the only markup that is not escaped.

plotly draws its text from a small markup language of its own (``<b>``, ``<br>``, links that
open when clicked): every string a figure shows as text (titles, axis titles and tick labels,
annotations, legend names, hover data, dimension labels) is escaped as the figure is written
(``figure_html``), whoever drew it, Optuna's plots included; a hover template, which is
markup by design, gets a user's string only through ``label``.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

import plotly.io

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    # Long notes and names wrap inside the page's width instead of running past its edge.
    "pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere}"
    "p,li,td,th{overflow-wrap:anywhere}h2{border-bottom:1px solid #ccc}"
    ".warning{background:#fff3cd;border-left:4px solid #e0a800;padding:.5em 1em}"
    ".note{color:#444;font-size:.9em;margin:.3em 0}"
    ".summary{background:#f3f7fb;border:1px solid #c8d8e8;padding:.2em 1.2em 1em}"
    ".headline{font-size:1.25em}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;font-size:.9em}"
    "img{max-width:100%;height:auto}"
)


#: The keys of a plotly figure whose strings it shows as text, read as its markup: titles
#: (``title.text``), annotations, tick labels, legend names, hover data (``customdata``,
#: ``hovertext``), the labels of parallel coordinates' dimensions.
_TEXT_KEYS = frozenset({"text", "ticktext", "name", "hovertext", "customdata", "label", "title"})


def label(text: str) -> str:
    """A user's string inside a hover template (markup of ours: ``name<br>%{x}``)."""
    # plotly reads "%{...}" in hover templates as a field: a name must not be one.
    return html.escape(text, quote=False).replace("%{", "%&#123;")


def figure_html(figure: Any, include_plotlyjs: bool) -> str:
    """A plotly figure as HTML, each string it shows as text escaped (``_TEXT_KEYS``)."""
    spec = figure.to_plotly_json()
    escaped = {"data": _escaped(spec["data"]), "layout": _escaped(spec.get("layout", {}))}
    return str(
        plotly.io.to_html(
            escaped,
            full_html=False,
            include_plotlyjs=include_plotlyjs,
            # No "produced with plotly" link to plotly.com in the figures' tool bar.
            config={"displaylogo": False},
        )
    )


def _escaped(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _escaped(v, k) for k, v in value.items()}
    if key in _TEXT_KEYS and hasattr(value, "tolist"):  # a NumPy array of labels
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [_escaped(v, key) for v in value]
    if isinstance(value, str) and key in _TEXT_KEYS:
        return html.escape(value, quote=False)
    return value


def element(tag: str, text: str, css_class: str | None = None) -> str:
    """``<tag>text</tag>``, the text escaped (quotes need no escape outside attributes)."""
    attribute = f" class='{css_class}'" if css_class else ""
    return f"<{tag}{attribute}>{html.escape(text, quote=False)}</{tag}>"


def markup(tag: str, *inner: str, css_class: str | None = None) -> str:
    """``<tag>…</tag>`` around ``inner``, which is markup made by these functions (or
    :func:`text`): nothing is escaped twice, nothing unescaped gets in."""
    attribute = f" class='{css_class}'" if css_class else ""
    return f"<{tag}{attribute}>{''.join(inner)}</{tag}>"


def text(value: str) -> str:
    """A user's string as markup: escaped."""
    return html.escape(value, quote=False)


def pre(text: str) -> str:
    return element("pre", text)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An HTML table; every cell is escaped text (None: empty)."""

    def cells(tag: str, values: Sequence[Any]) -> str:
        return "".join(element(tag, "" if v is None else str(v)) for v in values)

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', headers)}</tr></thead><tbody>{body}</tbody></table>"


def png_image(png: bytes, alt: str) -> str:
    """A PNG inside the page itself (a data: URI), so the file travels alone."""
    data = base64.b64encode(png).decode("ascii")
    return f"<p><img src='data:image/png;base64,{data}' alt='{html.escape(alt)}'></p>"


class Figures:
    """plotly figures as HTML, plotly.js inlined with the first one only (the page opens
    offline and carries the library once)."""

    def __init__(self) -> None:
        self.drawn = 0

    def html(self, figure: Any) -> str:
        drawn = figure_html(figure, include_plotlyjs=self.drawn == 0)
        self.drawn += 1
        return f"<div class='figure'>{drawn}</div>"


def page(title: str, body: Sequence[str]) -> str:
    """The whole document: ``body`` is markup made by the functions above."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        # An empty icon of its own: a browser would otherwise ask for /favicon.ico.
        "<link rel='icon' href='data:,'>"
        f"{element('title', title)}<style>{STYLE}</style></head>"
        f"<body>{element('h1', title)}{''.join(body)}</body></html>"
    )
