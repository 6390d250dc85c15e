"""Telegram's HTML parse mode: text plus entities, and Telegram's errors for bad markup.

Offsets and lengths of entities count UTF-16 code units, as the Bot API does.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


class ParseError(ValueError):
    """Telegram's 'can't parse entities' answer; the text is the reason after the colon."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(raw: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _Parser(raw)
    parser.feed(raw)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise ParseError(f"Can't find end tag corresponding to start tag {tag}")
    text = "".join(parser.parts)
    stripped = text.strip()
    if stripped != text:  # Telegram trims the text; entities shift with the leading cut
        lead = utf16_len(text[: len(text) - len(text.lstrip())])
        total = utf16_len(stripped)
        entities = []
        for entity in parser.entities:
            start = max(entity["offset"] - lead, 0)
            end = min(entity["offset"] + entity["length"] - lead, total)
            if end > start:
                entities.append({**entity, "offset": start, "length": end - start})
        return stripped, sorted(entities, key=lambda e: (e["offset"], -e["length"]))
    return text, sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))


class _Parser(HTMLParser):
    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=True)
        self.raw = raw
        self.parts: list[str] = []
        self.length = 0  # UTF-16 units so far
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        lines = self.raw.split("\n")
        index = sum(len(x) + 1 for x in lines[: line - 1]) + col
        return len(self.raw[:index].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: dict[str, Any]
        if tag in _SIMPLE:
            entity = {"type": _SIMPLE[tag]}
            if tag == "blockquote" and "expandable" in attributes:
                entity = {"type": "expandable_blockquote"}
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag == "a":
            href = attributes.get("href") or ""
            if href.startswith("tg://user?id="):
                entity = {"type": "text_mention", "user": {"id": int(href.split("=", 1)[1])}}
            else:
                entity = {"type": "text_link", "url": href}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id", "")}
        elif tag == "br":
            raise ParseError(f'Unsupported start tag "br" at byte offset {self._offset()}')
        else:
            raise ParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][2]["language"] = language
            entity = {"type": "_inner_code"}
        self.stack.append((tag, self.length, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise ParseError(
                f'Unmatched end tag at byte offset {self._offset()}, expected "</'
                f'{self.stack[-1][0] if self.stack else ""}>", found "</{tag}>"'
            )
        _, start, entity = self.stack.pop()
        if entity["type"] == "_inner_code" or self.length == start:
            return
        self.entities.append({**entity, "offset": start, "length": self.length - start})

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)
