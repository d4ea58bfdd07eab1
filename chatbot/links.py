"""No answer carries a link or an image other than its own reports' source links, whichever answerer wrote it.

A report's text can hold a planted link ("visit http://evil.example/login"), and a model can be talked
into writing one. The answer is the only thing the user sees as ours, so every link-like form in it is
taken out unless it is the official URL of a report the answer cites: Markdown images and links, HTML
anchors and images, autolinks, bare URLs and `www.` addresses. A removed image leaves nothing; a removed
link keeps its words and loses its target; a bare address becomes "[link removed]".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LINK_REMOVED = "[link removed]"

_MD_IMAGE = re.compile(r"!\[(?P<text>[^\]\n]*)\]\((?P<url>[^)\s]*)(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<url>[^)\s]*)(?:\s+\"[^\"]*\")?\)")
_HTML_IMAGE = re.compile(r"<\s*img\b[^>]*>", re.I)
_HTML_ANCHOR = re.compile(r"<\s*a\b[^>]*\bhref\s*=\s*[\"']?(?P<url>[^\"'\s>]*)[^>]*>(?P<text>.*?)<\s*/\s*a\s*>", re.I | re.S)
_AUTOLINK = re.compile(r"<(?P<url>(?:https?|ftp|mailto|javascript|data):[^>\s]*)>", re.I)
_BARE = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.|\bjavascript:|\bdata:[\w/+.-]+;)[^\s<>\"')\]]*", re.I)


def keep_own_links(text: str, allowed: Iterable[str]) -> str:
    """`text` with every link and image removed except links to the `allowed` URLs (exact match)."""
    keep = {url.strip() for url in allowed if url and url.strip()}

    def link(match: re.Match[str]) -> str:
        return match.group(0) if match.group("url") in keep else match.group("text")

    text = _MD_IMAGE.sub("", text)
    text = _HTML_IMAGE.sub("", text)
    text = _HTML_ANCHOR.sub(link, text)
    text = _MD_LINK.sub(link, text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if m.group("url") in keep else LINK_REMOVED, text)
    return _BARE.sub(lambda m: _bare(m.group(0), keep), text)


def _bare(found: str, keep: set[str]) -> str:
    """A bare address kept when allowed, else replaced; the sentence's own punctuation after it stays."""
    url = found.rstrip(".,;:!?")
    return found if url in keep else LINK_REMOVED + found[len(url) :]
