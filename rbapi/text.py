"""Text conversions for rich-text fields: Markdown escaping, unescaping and safe rendering.

Stored text is ``plain`` or ``markdown``. Converting plain text to Markdown escapes the
characters Markdown would interpret; converting back unescapes them; HTML is rendered from
Markdown with python-markdown and then sanitised with nh3, or HTML-escaped from plain text
(spec: mechanics.md §7; reliability.md §4).
"""

from __future__ import annotations

import html
import re

import markdown as python_markdown
import nh3

# Characters Markdown gives meaning to anywhere in a line.
_ALWAYS = re.compile(r"([\\`{}\[\]!|])")
# Emphasis runs at the edge of a word.
_EMPHASIS = re.compile(r"((?<![\w\\])[*_]+(?=\S)|(?<=\S)[*_]+(?![\w]))")
# Block syntax at the start of a line (after optional indentation).
_LINE_START = re.compile(r"^(\s*)(#+|[-+*](?=\s)|>|\d+\.(?=\s))", re.MULTILINE)
# Link syntax "](" and autolinks "<...>".
_LINK = re.compile(r"(\]\s*)\(")
_AUTOLINK_END = re.compile(r"(?<=\S)>")

_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
}


def markdown_escape(text: str) -> str:
    """Escape plain text so that Markdown shows it as written."""
    text = _ALWAYS.sub(r"\\\1", text)
    text = _EMPHASIS.sub(lambda m: "".join("\\" + ch for ch in m.group(1)), text)
    text = _LINE_START.sub(
        lambda m: m.group(1) + "".join("\\" + ch if ch in "#-+*>." else ch for ch in m.group(2)),
        text,
    )
    text = _LINK.sub(r"\1\\(", text)
    return text


def markdown_unescape(text: str) -> str:
    """Undo :func:`markdown_escape`."""
    return _UNESCAPE.sub(r"\1", text)


def render_markdown(text: str) -> str:
    """Markdown -> sanitised HTML (no scripts, no event handlers, no javascript: URLs)."""
    rendered = python_markdown.markdown(
        text,
        extensions=["fenced_code", "sane_lists", "tables", "nl2br"],
        output_format="html",
    )
    return nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "ftp"},
        link_rel="nofollow noopener noreferrer",
    )


def convert(text: str | None, is_rich: bool, to_type: str) -> str | None:
    """Convert stored text (Markdown if ``is_rich``) to ``plain``, ``markdown`` or ``html``."""
    if text is None:
        return None
    if to_type == "markdown":
        return text if is_rich else markdown_escape(text)
    if to_type == "plain":
        return markdown_unescape(text) if is_rich else text
    if to_type == "html":
        return render_markdown(text) if is_rich else html.escape(text)
    return text
