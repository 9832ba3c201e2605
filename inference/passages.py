"""Where in a source's text a claim's quote stands, and the passage around it: pure text work.

The judge reads a passage, not a whole document: a small model's context is
short, and a passage about the quote is what the claim rests on. The quote is
found with the crawlers' own matcher (``crawlers.matching``), so "found" means
here exactly what it means to the source checks. The passage is the block(s)
of the extracted text holding the match (one line per block of the document),
widened by whole neighbouring blocks while it stays within ``PASSAGE_CHARS``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from crawlers.matching import TextIndex, tokens

# About 500 tokens of English: room for the claim, the instructions and the
# answer within the embedded model's 2048-token context.
PASSAGE_CHARS = 2000

_WORD = re.compile(r"\w+$")
# The matcher's token pattern, for ASCII text.
_ASCII_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Located:
    """A passage of a text and the matcher's score for the quote in it (1.0: verbatim)."""

    passage: str
    score: float


def _token_count(line: str) -> int:
    """How many matcher tokens ``line`` has; an ASCII line skips the Unicode normalisation,
    which cannot change its count (no composed, invisible or typographic characters)."""
    if line.isascii():
        return len(_ASCII_TOKEN.findall(line))
    return len(tokens(line))


def _start_of(wanted: list[str], flat: list[str]) -> int | None:
    size = len(wanted)
    for position, token in enumerate(flat):
        if token == wanted[0] and flat[position : position + size] == wanted:
            return position
    return None


def _token_offsets(text: str) -> list[int]:
    """Where in ``text`` each of its matcher tokens starts, found character by character."""
    offsets: list[int] = []
    in_word = False
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue  # dropped by the matcher, so it never splits a word
        found = tokens(char)
        if len(found) == 1 and _WORD.match(found[0]):
            if not in_word:
                offsets.append(index)
            in_word = True
            continue
        in_word = False
        offsets.extend([index] * len(found))
    return offsets


def passage_around(*, text: str, quote: str, chars: int = PASSAGE_CHARS) -> Located | None:
    """The passage of ``text`` around ``quote``, or None when the matcher does not find it.

    The passage is at most ``chars`` characters, or twice the quote's length when
    the quote is longer, so a long quote is never cut. A single block longer
    than that is cut to a window centred on the match.
    """
    index = TextIndex(text)
    match = index.search(quote)
    if not match.found:
        return None
    wanted = match.excerpt.split(" ")
    start = _start_of(wanted, index.tokens)
    if start is None:  # pragma: no cover - the excerpt is a run of the text's own tokens
        return None
    end = start + len(wanted) - 1
    lines = text.splitlines()
    # Tokens never span a line break, so counting each line's tokens, up to the
    # match only, finds the block(s) the match is in.
    seen, first, first_at, last, last_end = 0, 0, 0, len(lines) - 1, len(index.tokens)
    found_first = False
    for number, line in enumerate(lines):
        count = _token_count(line)
        if not found_first and start < seen + count:
            first, first_at, found_first = number, seen, True
        if end < seen + count:
            last, last_end = number, seen + count
            break
        seen += count
    limit = max(chars, 2 * len(quote))
    block = "\n".join(lines[first : last + 1]).strip()
    if len(block) > limit:
        before = start - first_at
        in_block = last_end - first_at
        offsets = _token_offsets(block)
        if len(offsets) == in_block:
            middle = (offsets[before] + offsets[before + len(wanted) - 1]) // 2
        else:
            # A rare text whose normalisation merges or splits characters: place the
            # window by the match's share of the block's tokens instead.
            middle = round(len(block) * (before + len(wanted) / 2) / max(in_block, 1))
        low = max(0, min(middle - limit // 2, len(block) - limit))
        return Located(passage=block[low : low + limit].strip(), score=match.score)
    above, below = first - 1, last + 1
    parts = [block]
    size = len(block)
    grew = True
    while grew:
        grew = False
        if above >= 0 and size + 1 + len(lines[above].strip()) <= limit:
            if lines[above].strip():
                parts.insert(0, lines[above].strip())
                size += 1 + len(parts[0])
            above -= 1
            grew = True
        if below < len(lines) and size + 1 + len(lines[below].strip()) <= limit:
            if lines[below].strip():
                parts.append(lines[below].strip())
                size += 1 + len(parts[-1])
            below += 1
            grew = True
    return Located(passage="\n".join(parts), score=match.score)
