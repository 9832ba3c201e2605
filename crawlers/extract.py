"""Pure functions from a fetched body to the text of the document it holds.

``extract(body, content_type=..., charset=..., keep=[...], remove=[...])`` returns an
``Extracted`` (normalised text, its hash, the encoding used) or raises ``CrawlerError``
(permanent) when the body holds no readable document. Nothing here touches the network or
the database.

What counts as the document's text, decided once here:
- only visible text: scripts, styles, templates, hidden elements and form controls go, so a
  Next.js payload that repeats the page does not count, and neither does link targets'
  ``href`` (per-render tracking ids there are not a change of terms);
- dialogs and cookie or consent banners go (the common consent managers by their ids and
  classes, and any dialog), so a banner that changes on every request is not a change;
- navigation and breadcrumbs go, inside the selected part too; without keep selectors,
  headers, footers and asides go as well (with selectors, the curator has said where the
  document is, and a header inside it may hold its "Effective" date);
- whitespace is read as a browser renders it: line breaks in the source inside a paragraph
  are spaces (only ``pre`` keeps them), block elements become lines; so a page whose source
  was re-wrapped reads the same. Unicode is NFKC-normalised, invisible format characters
  (U+200B, U+2060, U+FEFF, soft hyphens...) are removed and whitespace is collapsed.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass

import soupsieve
from bs4 import BeautifulSoup, Comment, Tag
from bs4.dammit import UnicodeDammit

from crawlers.errors import CrawlerError

# Bump when the rules below change, so re-extraction of old bodies is recognised as ours.
EXTRACTOR_REVISION = 2

MAX_PDF_PAGES = 500

ALWAYS_DROP = (
    "script, style, noscript, template, svg, canvas, iframe, object, embed, head, "
    "select, button, input, textarea, dialog, [role=dialog], [aria-modal=true], "
    "[hidden], [aria-hidden=true], [style*='display:none'], [style*='display: none'], "
    # Cookie and consent banners: named narrowly, since a privacy policy has a section
    # about cookies that must stay.
    "[id*=cookie-banner i], [class*=cookie-banner i], [id*=cookiebanner i], "
    "[class*=cookiebanner i], [id*=cookie-consent i], [class*=cookie-consent i], "
    "[id*=consent-banner i], [class*=consent-banner i], [id*=onetrust i], [class*=onetrust i], "
    "[role=alertdialog], [role=region][aria-label*=cookie i], "
    "[role=region][aria-label*=consent i], "
    # Consent managers by name: Cookiebot, Didomi, Usercentrics, TrustArc, Quantcast, Osano,
    # Iubenda, Cookie Script, Complianz, CookieYes, Termly, Klaro, Borlabs, CookieConsent,
    # Axeptio, Sourcepoint, consentmanager, Civic, Google's Funding Choices.
    "[id^=CybotCookiebot], #didomi-host, [class*=didomi-popup], [class*=didomi-notice], "
    "#usercentrics-root, #usercentrics-cmp-ui, #truste-consent-track, #consent_blackbar, "
    ".truste_box_overlay, .truste_overlay, [class*=qc-cmp2], [id*=qc-cmp2], "
    "[class*=osano-cm-], #iubenda-cs-banner, [id^=cookiescript_injected], "
    "#cmplz-cookiebanner-container, [class*=cmplz-cookiebanner], [class*=cky-consent], "
    ".cky-modal, #termly-code-snippet-support, [class^=termly-styles-root], #klaro, .klaro, "
    "#BorlabsCookieBox, #cc-main, .cc-window, #cc_div, #axeptio_overlay, "
    "[id^=sp_message_container], #cmpbox, #cmpbox2, #ccc, .fc-consent-root"
)
# Navigation, dropped inside the selected part too: a menu or a breadcrumb is not the document.
NAVIGATION = (
    "nav, [role=navigation], [aria-label*=breadcrumb i], [class*=breadcrumb i], "
    "[id*=breadcrumb i], [itemtype*=BreadcrumbList i]"
)
# Page furniture, dropped only when no selector says where the document is.
STRUCTURAL_BOILERPLATE = f"{NAVIGATION}, header, footer, aside, [role=banner], [role=contentinfo]"
BLOCK_TAGS = {
    "address", "article", "blockquote", "br", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol",
    "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "ul", "body", "caption",
}  # fmt: skip

_SPACES = re.compile(r"[^\S\n]+")
# What HTML counts as whitespace between words (a no-break space is not).
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_NEWLINES = re.compile(r"\n+")


@dataclass(frozen=True)
class Extracted:
    text: str
    content_hash: str
    encoding: str


def selector_errors(selectors: list[str]) -> list[str]:
    """A readable message for each selector that is not valid CSS (empty when all are)."""
    problems = []
    for selector in selectors:
        try:
            soupsieve.compile(selector)
        except Exception as exc:  # soupsieve raises SelectorSyntaxError and a few others
            problems.append(f"{selector!r} is not a valid CSS selector ({exc})")
    return problems


def normalise(text: str) -> str:
    """NFKC, no invisible format characters, one space between words, one line per block."""
    # An acute accent standing alone is an apostrophe typed on a European keyboard; NFKC
    # would make it a space and a combining accent.
    text = unicodedata.normalize("NFKC", text.replace("\u00b4", "\u2019"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _NEWLINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(body: bytes, charset: str) -> tuple[str, str]:
    """Decode bytes honouring a BOM first, then the HTTP charset, then the page's own meta."""
    known = [charset] if charset else []
    dammit = UnicodeDammit(body, known_definite_encodings=known, is_html=True)
    if dammit.unicode_markup is None:
        return body.decode("utf-8", errors="replace"), "utf-8 (with replacements)"
    return dammit.unicode_markup, dammit.original_encoding or "unknown"


def _select_all(root: BeautifulSoup | Tag, selector: str) -> list[Tag]:
    try:
        return root.select(selector)
    except Exception as exc:
        raise CrawlerError(
            f"The selector {selector!r} cannot be applied ({exc}).", permanent=True
        ) from None


def _text_of(nodes: list[Tag]) -> str:
    """The nodes' text as a browser lays it out: a line per block, source line breaks as
    spaces except inside ``pre``."""
    pieces: list[str] = []
    for node in nodes:
        preformatted = set()
        if isinstance(node, Tag):
            blocks = [node] if node.name == "pre" else []
            for pre in [*blocks, *node.find_all("pre")]:
                preformatted.update(id(string) for string in pre.find_all(string=True))
        for element in node.descendants if isinstance(node, Tag) else [node]:
            if isinstance(element, Tag):
                if element.name in BLOCK_TAGS:
                    pieces.append("\n")
                continue
            if isinstance(element, Comment) or type(element).__name__ in (
                "Doctype",
                "CData",
                "ProcessingInstruction",
                "Declaration",
            ):
                continue
            text = str(element)
            pieces.append(text if id(element) in preformatted else _HTML_SPACE.sub(" ", text))
        pieces.append("\n")
    return "".join(pieces)


def extract_html(
    body: bytes, *, charset: str = "", keep: list[str], remove: list[str]
) -> Extracted:
    markup, encoding = _decode(body, charset)
    try:
        soup = BeautifulSoup(markup, "lxml")
    except Exception as exc:  # lxml rejects very few inputs; report rather than crash
        raise CrawlerError(
            f"The page could not be parsed as HTML ({exc}).", permanent=True
        ) from None
    for selector in (*remove, ALWAYS_DROP):
        for element in _select_all(soup, selector):
            element.decompose()
    if keep:
        kept: list[Tag] = []
        for selector in keep:
            kept.extend(_select_all(soup, selector))
        if not kept:
            raise CrawlerError(
                f"None of the selectors {keep} matched anything on the page.", permanent=True
            )
        # Keep document order and drop elements already inside another kept element.
        chosen = {id(element) for element in kept}
        roots = [
            element
            for element in kept
            if not any(id(parent) in chosen for parent in element.parents)
        ]
        unique = list({id(element): element for element in roots}.values())
        for root in unique:
            for element in _select_all(root, NAVIGATION):
                if not element.decomposed:
                    element.decompose()
    else:
        main = _select_all(soup, "main")
        unique = main[:1] if main else [soup.body or soup]
        for root in unique:
            for element in _select_all(root, STRUCTURAL_BOILERPLATE):
                if not element.decomposed:
                    element.decompose()
    text = normalise(_text_of(unique))
    if not text:
        raise CrawlerError("The page holds no readable text.", permanent=True)
    return Extracted(text=text, content_hash=content_hash(text), encoding=encoding)


def extract_pdf(body: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            raise CrawlerError("The PDF is encrypted and cannot be read.", permanent=True)
        pages = reader.pages
        if len(pages) > MAX_PDF_PAGES:
            raise CrawlerError(
                f"The PDF has {len(pages)} pages, over the {MAX_PDF_PAGES}-page limit.",
                permanent=True,
            )
        text = "\n".join(page.extract_text() or "" for page in pages)
    except CrawlerError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise CrawlerError(f"The PDF could not be read ({exc}).", permanent=True) from None
    text = normalise(text)
    if not text:
        raise CrawlerError("The PDF holds no extractable text.", permanent=True)
    return Extracted(text=text, content_hash=content_hash(text), encoding="pdf")


def extract_plain(body: bytes, *, charset: str = "") -> Extracted:
    markup, encoding = _decode(body, charset)
    text = normalise(markup)
    if not text:
        raise CrawlerError("The page holds no readable text.", permanent=True)
    return Extracted(text=text, content_hash=content_hash(text), encoding=encoding)


def extract(
    body: bytes, *, content_type: str, charset: str = "", keep: list[str], remove: list[str]
) -> Extracted:
    """The document's text from a fetched body; raises ``CrawlerError`` when there is none."""
    if not body.strip():
        raise CrawlerError("The page is empty.", permanent=True)
    if content_type == "application/pdf" or body[:5] == b"%PDF-":
        return extract_pdf(body)
    if content_type == "text/plain":
        return extract_plain(body, charset=charset)
    return extract_html(body, charset=charset, keep=keep, remove=remove)
