"""Is a claim's evidence quote still in a source's text? A pure, scored answer.

Both sides are reduced to tokens: NFKC, invisible format characters dropped, curly quotes,
dashes and ellipses unified, case folded, then split into words and single punctuation
marks. Whitespace and the spacing around punctuation therefore never matter.

The score is 1.0 when the quote's tokens appear in order, contiguously. Otherwise the best
alignment of the quote against a window of the text is scored ``2·M / (len(quote) + span)``,
where M is the number of tokens matched and span the length of the text they cover; a
quote counts as found at ``MATCH_THRESHOLD`` (0.95). That tolerates one changed or missing
token in a quote of twenty or more, and never a changed word in a short quote, where one
word ("best" → "good" practices) is the whole change in meaning. Punctuation is matched too,
so a sentence that now continues ("research;" → "research, including training") is not
found.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

MATCH_THRESHOLD = 0.95
MAX_CANDIDATES = 25

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...",
    }
)  # fmt: skip
_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _TOKEN.findall(text.translate(_TRANSLATE).casefold())


@dataclass(frozen=True)
class Match:
    score: float
    found: bool
    excerpt: str


class TextIndex:
    """A text tokenised once, so many quotes can be searched in it cheaply."""

    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self._joined = "\x1f" + "\x1f".join(self.tokens) + "\x1f"
        self._positions: dict[str, list[int]] = {}
        for position, token in enumerate(self.tokens):
            self._positions.setdefault(token, []).append(position)

    def search(self, quote: str, *, threshold: float = MATCH_THRESHOLD) -> Match:
        wanted = tokens(quote)
        if not wanted:
            return Match(score=0.0, found=False, excerpt="")
        if "\x1f" + "\x1f".join(wanted) + "\x1f" in self._joined:
            return Match(score=1.0, found=True, excerpt=" ".join(wanted))
        # Vote for alignments: each quote token seen at text position p suggests the quote
        # starts at p - i. The most-voted starts are the only windows worth scoring.
        votes: Counter[int] = Counter()
        for i, token in enumerate(wanted):
            for position in self._positions.get(token, ()):
                votes[position - i] += 1
        best = Match(score=0.0, found=False, excerpt="")
        size = len(wanted)
        slack = max(3, size // 2)
        for start, _count in votes.most_common(MAX_CANDIDATES):
            low = max(0, start - slack)
            window = self.tokens[low : start + size + slack]
            matcher = SequenceMatcher(None, wanted, window, autojunk=False)
            blocks = [b for b in matcher.get_matching_blocks() if b.size]
            if not blocks:
                continue
            matched = sum(b.size for b in blocks)
            span = blocks[-1].b + blocks[-1].size - blocks[0].b
            score = 2 * matched / (size + span)
            if score > best.score:
                excerpt = " ".join(window[blocks[0].b : blocks[-1].b + blocks[-1].size])
                best = Match(score=round(score, 4), found=score >= threshold, excerpt=excerpt)
        return best


def find_quote(quote: str, text: str) -> Match:
    return TextIndex(text).search(quote)


# --- where a found quote stands ----------------------------------------------------------------

_QUOTE_MARKS = {'"', "'"}


@functools.lru_cache(maxsize=4)
def _spans(text: str) -> tuple[str, list[int], list[int]]:
    """``text``'s tokens joined as ``TextIndex`` joins them, with each token's span in ``text``.

    Normalised a character at a time (a base character with its combining marks), so every
    normalised character knows the original characters it came from. Cached: a check looks
    for every claim's quote in one text.
    """
    normalised: list[str] = []
    owner: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        piece = text[i:j]
        if not piece.isascii():
            piece = unicodedata.normalize("NFKC", piece)
            piece = "".join(ch for ch in piece if unicodedata.category(ch) != "Cf")
            piece = piece.translate(_TRANSLATE)
        piece = piece.casefold()
        normalised.append(piece)
        owner.extend([(i, j)] * len(piece))
        i = j
    flat = "".join(normalised)
    found = list(_TOKEN.finditer(flat))
    starts = [owner[m.start()][0] for m in found]
    ends = [owner[m.end() - 1][1] for m in found]
    return "\x1f" + "\x1f".join(m.group() for m in found) + "\x1f", starts, ends


def locate(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` stands in ``text``: ``(start, end)`` offsets into ``text`` as given.

    The quote's tokens must appear in ``text`` in order and contiguously, compared as
    ``tokens`` compares them (case, whitespace, typographic marks and invisible characters
    aside); quotation marks around the quote are not part of it. ``text[start:end]`` runs
    from the quote's first token to its last. None when the quote is not there word for
    word (a near match is never located), or has no words.
    """
    wanted = tokens(quote)
    while wanted and wanted[0] in _QUOTE_MARKS:
        wanted.pop(0)
    while wanted and wanted[-1] in _QUOTE_MARKS:
        wanted.pop()
    if not wanted:
        return None
    joined, starts, ends = _spans(text)
    at = joined.find("\x1f" + "\x1f".join(wanted) + "\x1f")
    if at < 0:
        return None
    first = joined.count("\x1f", 0, at)
    return starts[first], ends[first + len(wanted) - 1]
