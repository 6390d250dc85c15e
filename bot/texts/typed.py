"""What a person typed, before it is parsed: invisible characters removed.

A number copied from a PDF, a banking app or a right-to-left chat often carries zero-width or
bidi marks (U+200B..U+200F, U+2060, U+FEFF, the embeddings and isolates). They are invisible, so
the parent cannot see why "900314364011" is refused as "not digits". IINs, codes, phone numbers
and search text go through `clean_typed` before they are parsed or searched; free texts that are
stored and shown back (a broadcast, a reason) keep their characters (a ZWJ joins emoji).
"""

from __future__ import annotations

INVISIBLE = dict.fromkeys(
    [
        *range(0x200B, 0x2010),  # zero-width space, non-joiner, joiner; LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        0x2060,  # word joiner
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # byte order mark / zero-width no-break space
    ]
)


def clean_typed(text: str | None) -> str:
    """`text` without invisible format characters and without surrounding whitespace."""
    return (text or "").translate(INVISIBLE).strip()
