"""HTML sanitization for event text, exactly as docs/api.md says.

- ``description`` keeps the safe subset ``b i u em strong a p br ul ol li``;
  ``a`` keeps only ``href``, and only http(s) or mailto links.
- Everything else is stripped, and the *content* of script-like elements goes
  with it (bleach alone would keep ``alert(1)`` as text).
- ``title`` and ``location`` are plain text: tags stripped, entities decoded
  (stored once, not escaped twice; the SPA escapes on display).

Called from the services, so the API, the admin and the commands all get it.
"""

import html
from functools import cache
from typing import Any

import bleach
from bleach import html5lib_shim

DESCRIPTION_TAGS = frozenset({"b", "i", "u", "em", "strong", "a", "p", "br", "ul", "ol", "li"})
DESCRIPTION_ATTRIBUTES = {"a": ["href"]}
DESCRIPTION_PROTOCOLS = frozenset({"http", "https", "mailto"})
# Elements whose content is code or markup, never readable text.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "object",
        "embed",
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "svg",
        "math",
    }
)


def _local_name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _drop_subtrees(dom: Any) -> None:
    """Remove DROPPED_WITH_CONTENT elements from an etree fragment, keeping
    the text that follows each of them."""
    for parent in list(dom.iter()):
        previous = None
        for child in list(parent):
            if _local_name(child.tag) in DROPPED_WITH_CONTENT:
                tail = child.tail or ""
                if previous is None:
                    parent.text = (parent.text or "") + tail
                else:
                    previous.tail = (previous.tail or "") + tail
                parent.remove(child)
            else:
                previous = child


@cache
def _cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    cleaner = bleach.Cleaner(
        tags=tags,
        attributes=DESCRIPTION_ATTRIBUTES,
        protocols=DESCRIPTION_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    # bleach's tokenizer drops disallowed tags while parsing, leaving their
    # content behind as text. Let script-like elements through the parser
    # so they stand in the tree with their content, then cut those subtrees
    # out before bleach's sanitizer walks the tree.
    cleaner.parser = html5lib_shim.BleachHTMLParser(
        tags=tags | DROPPED_WITH_CONTENT,
        strip=True,
        consume_entities=False,
        namespaceHTMLElements=False,
    )
    walk = cleaner.walker

    def walker(dom: Any) -> Any:
        _drop_subtrees(dom)
        return walk(dom)

    cleaner.walker = walker
    return cleaner


def sanitize_description(value: str) -> str:
    return _cleaner(DESCRIPTION_TAGS).clean(value or "").strip()


def sanitize_plain_text(value: str) -> str:
    """Plain text: tags stripped, entities decoded once. Repeated to a
    fixpoint, since ``&lt;b&gt;`` becomes ``<b>`` once decoded; what is still
    left of a tag then (an unterminated ``<iframe src=x <`` is kept by the
    parser as text) loses its angle brackets, so no markup can survive."""
    text = value or ""
    for _ in range(5):
        cleaned = html.unescape(_cleaner(frozenset()).clean(text))
        if cleaned == text:
            break
        text = cleaned
    text = text.replace("<", " ").replace(">", " ")
    return " ".join(text.split())
