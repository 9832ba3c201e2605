"""Is a claim's evidence quote still in a source's text? A pure, scored answer.

Both sides are reduced to tokens: typographic quotes, apostrophes (U+2018/2019/201C/201D,
U+02BC, U+00B4, U+0060...), dashes and ellipses unified, NFKC (so no-break spaces are spaces),
invisible format characters (U+200B, U+2060, U+FEFF, soft hyphens...) dropped, case folded,
then split into words and single punctuation marks. Whitespace and the spacing around
punctuation therefore never matter. Quotation marks around the whole quote are not part of it.

*Found* (confirmed) means the quote's words are in the text, in order and contiguous, up to
that normalisation and hyphenation: a word broken by a hyphen at a line end ("compe-" /
"tition") reads as the whole word. Nothing else is tolerated, so no changed negation ("not",
"n't", "never"...), modal verb ("may", "will"...), number, date or currency ever confirms.

Otherwise the text is searched fuzzily to *locate* the quote: the best alignment against a
window of the text is scored ``2·M / (len(quote) + span)``, where M is the number of tokens
matched and span the length of the text they cover. At ``MATCH_THRESHOLD`` (0.95) or above
the quote is located but its wording changed (a *near miss*: one changed or missing token in
a quote of twenty or more); ``differences`` then lists the words that differ. Below it the
quote is not in the text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher

MATCH_THRESHOLD = 0.95
MAX_CANDIDATES = 25

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u02bc": "'", "\u00b4": "'", "\u0060": "'", "\u02b9": "'", "\u2035": "'",
        "\uff07": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2033": '"', "\u00ab": '"', "\u00bb": '"', "\u2039": "'", "\u203a": "'",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\u2026": "...",
    }
)  # fmt: skip
_TOKEN = re.compile(r"\w+|[^\w\s]")
_QUOTE_MARKS = {'"', "'"}


def tokens(text: str) -> list[str]:
    # Typographic marks are unified before NFKC too, which would turn U+00B4 into a space
    # and a combining accent.
    text = unicodedata.normalize("NFKC", text.translate(_TRANSLATE))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _TOKEN.findall(text.translate(_TRANSLATE).casefold())


def quote_tokens(quote: str) -> list[str]:
    """The quote's tokens without the quotation marks around it (“…”, "…", '…')."""
    wanted = tokens(quote)
    while len(wanted) >= 2 and wanted[0] in _QUOTE_MARKS and wanted[-1] in _QUOTE_MARKS:
        wanted = wanted[1:-1]
    return wanted


def _dehyphenate(words: list[str]) -> tuple[list[str], list[int]]:
    """``words`` with each letter-hyphen-letter run joined into one word, and for each
    resulting word the index of its first token, so "compe - tition" reads "competition"."""
    joined: list[str] = []
    starts: list[int] = []
    position = 0
    while position < len(words):
        word = words[position]
        start = position
        position += 1
        while (
            position + 1 < len(words)
            and words[position] == "-"
            and words[position - 1][-1:].isalpha()
            and words[position + 1][:1].isalpha()
        ):
            word += words[position + 1]
            position += 2
        joined.append(word)
        starts.append(start)
    return joined, starts


@dataclass(frozen=True)
class Match:
    """The best place for a quote in a text.

    ``found``: the quote's words are there (confirmation). ``located``: found, or a near
    miss at or above the threshold. ``excerpt`` is the text's tokens where the quote was
    placed, joined by spaces; ``differences`` pairs the quote's words with the text's where
    a near miss differs ("" for a word missing on one side).
    """

    score: float
    found: bool
    excerpt: str
    located: bool = False
    differences: tuple[tuple[str, str], ...] = field(default=())

    @property
    def near_miss(self) -> bool:
        return self.located and not self.found


class TextIndex:
    """A text tokenised once, so many quotes can be searched in it cheaply."""

    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self._words, self._word_starts = _dehyphenate(self.tokens)
        self._joined = "\x1f" + "\x1f".join(self._words) + "\x1f"
        self._positions: dict[str, list[int]] = {}
        for position, token in enumerate(self.tokens):
            self._positions.setdefault(token, []).append(position)

    def _exact(self, wanted: list[str]) -> Match | None:
        words, _ = _dehyphenate(wanted)
        at = self._joined.find("\x1f" + "\x1f".join(words) + "\x1f")
        if at < 0:
            return None
        first = self._joined.count("\x1f", 0, at)
        after = first + len(words)
        end = self._word_starts[after] if after < len(self._words) else len(self.tokens)
        excerpt = " ".join(self.tokens[self._word_starts[first] : end])
        return Match(score=1.0, found=True, excerpt=excerpt, located=True)

    def search(self, quote: str, *, threshold: float = MATCH_THRESHOLD) -> Match:
        wanted = quote_tokens(quote)
        if not wanted:
            return Match(score=0.0, found=False, excerpt="")
        exact = self._exact(wanted)
        if exact is not None:
            return exact
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
            score = round(2 * matched / (size + span), 4)
            if score > best.score:
                passage = window[blocks[0].b : blocks[-1].b + blocks[-1].size]
                located = score >= threshold
                best = Match(
                    score=min(score, 0.9999),  # 1.0 is for a quote that is there
                    found=False,
                    excerpt=" ".join(passage),
                    located=located,
                    differences=_differences(wanted, passage) if located else (),
                )
        return best


def _differences(wanted: list[str], passage: list[str]) -> tuple[tuple[str, str], ...]:
    """The quote's words and the passage's that differ, in the quote's order."""
    matcher = SequenceMatcher(None, wanted, passage, autojunk=False)
    return tuple(
        (" ".join(wanted[i1:i2]), " ".join(passage[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


def find_quote(quote: str, text: str) -> Match:
    return TextIndex(text).search(quote)


# --- where a found quote stands ----------------------------------------------------------------

_QUOTE_MARKS = {'"', "'"}
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


@functools.lru_cache(maxsize=4)
def _spans(text: str) -> tuple[str, list[int], list[int]]:
    """``text``'s tokens joined as ``TextIndex`` joins them, with each token's span in ``text``.

    Normalised a character at a time (a base character with its combining marks), so every
    normalised character knows the original characters it came from. Cached: a check looks
    for every claim's quote in one text.
    """
    normalised: list[str] = []
    # For each normalised character, the start and end of the original characters it came from.
    owner_start: list[int] = []
    owner_end: list[int] = []
    i, length = 0, len(text)
    while i < length:
        # A run of ASCII characters normalises to itself, lower-cased, one for one: read it
        # whole (a text is mostly such runs), leaving out a last character that a combining
        # mark follows, which is read with its mark below.
        run = _ASCII_RUN.match(text, i)
        if run is not None:
            k = run.end()
            if k < length and unicodedata.combining(text[k]):
                k -= 1
            if k > i:
                normalised.append(text[i:k].lower())
                owner_start.extend(range(i, k))
                owner_end.extend(range(i + 1, k + 1))
                i = k
                continue
        j = i + 1
        while j < length and unicodedata.combining(text[j]):
            j += 1
        piece = text[i:j]
        if not piece.isascii():
            piece = unicodedata.normalize("NFKC", piece)
            piece = "".join(ch for ch in piece if unicodedata.category(ch) != "Cf")
            piece = piece.translate(_TRANSLATE)
        piece = piece.casefold()
        normalised.append(piece)
        owner_start.extend([i] * len(piece))
        owner_end.extend([j] * len(piece))
        i = j
    flat = "".join(normalised)
    found = list(_TOKEN.finditer(flat))
    starts = [owner_start[m.start()] for m in found]
    ends = [owner_end[m.end() - 1] for m in found]
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
