"""Marks, badges and small SVG charts for the catalogue pages.

The markup is in the partials under ``catalog/partials/``: these tags choose each mark's icon
and words and compute each chart's geometry. Every mark pairs an icon with words, so nothing
is said by colour alone. Charts are plain SVG computed here from figures a selector already
counted: no JavaScript and nothing fetched from elsewhere, so they print and work offline.

One table is written here instead: ``claim_rows``, the claims table, where a template loop
was measured several times slower on a provider with 200 claims (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import functools
import html

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog import claim_state, freshness

register = template.Library()

_FRESHNESS_TEXT = {
    freshness.CURRENT: ("●", "Current"),
    freshness.AGEING: ("◐", "Ageing"),
    freshness.STALE: ("○", "Stale"),
    freshness.UNKNOWN: ("?", "Never checked"),
}

# Badges a claim gets before its age is looked at (``claim_state.badge``): words, and a title
# where the word alone does not say why.
_CLAIM_STATUS_TEXT = {
    "needs_review": ("Needs review", ""),
    "disputed": ("Disputed", ""),
    "retired": ("Retired", ""),
    claim_state.UNVERIFIABLE: (
        "Unverifiable",
        "No evidence quote: no check can confirm or contradict this claim until one is added.",
    ),
}

_RATING_TEXT = {
    "supported": ("✓", "Supported"),
    "partial": ("◐", "Partial"),
    "not_supported": ("✗", "Not supported"),
    "unknown": ("?", "Unknown"),
}

_TERNARY_TEXT = {
    "yes": ("✓", "Yes"),
    "conditional": ("◐", "Under conditions"),
    "partial": ("◐", "Partial"),
    "no": ("✗", "No"),
    "unknown": ("?", "Unknown"),
    "": ("?", "Unknown"),
}


@register.simple_tag
def freshness_badge(checked: dt.date | None) -> SafeString:
    """A badge saying whether a check date is current, ageing or stale, with the date
    (``catalog/partials/freshness_badge.html``)."""
    return _freshness_badge(freshness.level(checked), checked)


# A page lists hundreds of claims over a few hundred distinct dates: render each badge once.
@functools.lru_cache(maxsize=2048)
def _freshness_badge(level: str, checked: dt.date | None) -> SafeString:
    icon, text = _FRESHNESS_TEXT[level]
    return render_to_string(
        "catalog/partials/freshness_badge.html",
        {"level": level, "checked": checked, "icon": icon, "text": text},
    )


@register.simple_tag
def claim_badge(claim) -> SafeString:
    """A claim's one badge (``claim_state.badge``): its status, then unverifiable without a
    quote, then the age of its check date with the date
    (``catalog/partials/claim_status_badge.html`` or ``freshness_badge.html``)."""
    badge = claim_state.badge(
        status=claim.status, quote=claim.evidence_quote, checked=claim.checked_at
    )
    return _claim_badge(badge, claim.checked_at)


def _claim_badge(badge: str, checked: dt.date | None) -> SafeString:
    if badge in claim_state.AGE_BADGES:
        return _freshness_badge(badge, checked)
    return _claim_status_badge(badge)


@functools.lru_cache(maxsize=16)
def _claim_status_badge(badge: str) -> SafeString:
    text, title = _CLAIM_STATUS_TEXT[badge]
    return render_to_string(
        "catalog/partials/claim_status_badge.html", {"badge": badge, "text": text, "title": title}
    )


@register.simple_tag
def rating_mark(value: str) -> SafeString:
    """A GDPR rating (``RatingValue``) as an icon and a word (``catalog/partials/mark.html``)."""
    icon, text = _RATING_TEXT.get(value, _RATING_TEXT["unknown"])
    return _mark("rating", value or "unknown", icon, text)


@register.simple_tag
def ternary_mark(value: str) -> SafeString:
    """A yes / conditional / no / unknown value as an icon and a word
    (``catalog/partials/mark.html``)."""
    icon, text = _TERNARY_TEXT.get(value or "", _TERNARY_TEXT["unknown"])
    return _mark("ternary", value or "unknown", icon, text)


# A handful of values, printed thousands of times on the longer pages: render each once.
@functools.lru_cache(maxsize=256)
def _mark(kind: str, value: str, icon: str, text: str) -> SafeString:
    return render_to_string(
        "catalog/partials/mark.html", {"kind": kind, "value": value, "icon": icon, "text": text}
    )


@register.simple_tag
def claim_rows(rows: list) -> SafeString:
    """The body rows of a claims table, from a page's prepared rows (``ClaimRow``).

    Written out here rather than in a template loop: on a provider with 200 claims the loop's
    lookups, tags and escaping took several times as long for the same markup. Every text is
    escaped; each mark pairs an icon with a word, as elsewhere.
    """
    return mark_safe("".join(_claim_row(row) for row in rows))


def _claim_row(row: dict) -> str:
    # Plain string building with the standard library's escape (what Django's ``escape``
    # calls too): format_html's lazy-string wrappers cost more than the markup on 200 rows.
    e = html.escape
    # One badge per claim: a status (or unverifiable) beside its name, else its age beside
    # its check date.
    if row["badge"] in claim_state.AGE_BADGES:
        status, age = "", _freshness_badge(row["badge"], row["checked_at"])
    else:
        status, age = f" {_claim_status_badge(row['badge'])}", ""
    value = ternary_mark(row["flag"]) if row["flag"] else e(row["value"])
    condition = e(row["condition"])
    if row["scope"]:
        condition += f'<span class="scope">{e(row["scope"])}</span>'
    elif not row["condition"]:
        condition = '<span class="muted">None stated</span>'
    if row["source_url"]:
        source = f'<a href="{e(row["source_url"])}" rel="noopener">{e(row["source_title"])}</a>'
    else:
        source = f'{e(row["source_title"])} <span class="muted small">(no public address)</span>'
    quote = ""
    if row["quote"]:
        quote = f'\n      <blockquote class="quote">“{e(row["quote"])}”</blockquote>'

    if row["checks"]:
        checks = "".join(
            f"<li>{v['checked_at']:%Y-%m-%d}: <strong>{e(v['outcome'])}</strong> by "
            f"{e(v['method'])}{' — ' + e(v['note']) if v['note'] else ''}</li>"
            for v in row["checks"]
        )
        more = (
            f'\n        <p class="small"><a href="{e(row["url"])}">'
            f"All {row['check_count']} checks on the claim's page</a></p>"
            if row["check_count"] > len(row["checks"])
            else ""
        )
        history = (
            f'<details class="history"><summary>Verification history ({row["check_count"]})'
            f"</summary>\n        <ol>{checks}</ol>{more}\n      </details>"
        )
    else:
        history = '<span class="muted small">Not re-checked since recorded</span>'
    return (
        f'\n  <tr id="claim-{row["pk"]}">'
        f'\n    <th scope="row"><a href="{e(row["url"])}">{e(row["label"])}</a>{status}</th>'
        f"\n    <td>{value}</td>"
        f"\n    <td>{condition}</td>"
        f"\n    <td>{source}<br>"
        f'<span class="muted small">{e(row["source_meta"])}</span>{quote}</td>'
        f"\n    <td>{row['checked_at'].isoformat()}<br>{age}"
        f"\n      {history}</td>"
        "\n  </tr>"
    )


@register.filter
def price(value) -> str:
    """A decimal price without trailing zeros: 0.2500 -> 0.25."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


@register.inclusion_tag("catalog/partials/freshness_chart.html")
def freshness_chart(summary, title: str = "Freshness of claims") -> dict:
    """A horizontal stacked bar: current / ageing / stale claims, with counts in words."""
    width = 600
    total = summary.total
    segments = []
    x = 0.0
    for level, label, count in summary.parts():
        share = count / total if total else 0
        segments.append(
            {
                "level": level,
                "label": label,
                "count": count,
                "x": round(x, 1),
                "w": round(share * width, 1),
                "percent": round(share * 100),
            }
        )
        x += share * width
    return {"segments": segments, "total": total, "title": title, "width": width}


@register.inclusion_tag("catalog/partials/ratings_chart.html")
def ratings_chart(spread, highlight: bool = False) -> dict:
    """One stacked bar per GDPR criterion: how many providers rate it each way."""
    width, label_w, row_h = 600, 230, 26
    # On a provider page the right-hand column names this provider's own rating.
    bars_end = width - 130 if highlight else width
    order = ("supported", "partial", "not_supported", "unknown")
    rows = []
    for index, item in enumerate(spread):
        total = item.total
        x = float(label_w)
        parts = []
        for value in order:
            count = item.counts.get(value, 0)
            w = (count / total) * (bars_end - label_w) if total else 0
            parts.append(
                {
                    "value": value,
                    "label": _RATING_TEXT[value][1],
                    "count": count,
                    "x": round(x, 1),
                    "w": round(w, 1),
                }
            )
            x += w
        rows.append(
            {
                "name": item.criterion.name,
                "y": index * row_h,
                "parts": parts,
                "total": total,
                "highlight": " ".join(_RATING_TEXT.get(item.highlight, ("", ""))).strip()
                if highlight
                else "",
            }
        )
    return {
        "rows": rows,
        "width": width,
        "label_w": label_w,
        "height": max(len(rows) * row_h, row_h),
        "bar_h": row_h - 8,
        "legend": [(v, _RATING_TEXT[v][0], _RATING_TEXT[v][1]) for v in order],
        "highlight": highlight,
        "mine_x": bars_end + 10,
    }


_VERDICT_TEXT = {
    "recommended": ("✓", "Recommended"),
    "conditional": ("◐", "Conditional"),
    "not_recommended": ("✗", "Not recommended"),
    "unrated": ("?", "Not yet rated"),
}


@register.inclusion_tag("catalog/partials/verdicts_chart.html")
def verdicts_chart(counts: dict[str, int]) -> dict:
    """One bar per GDPR verdict: how many providers' published assessments reach it.

    ``counts`` maps each verdict (``AssessmentVerdict`` values) to a number of
    providers; every verdict gets a row, with its icon, name and count written out.
    """
    width, label_w, count_w, row_h = 600, 190, 110, 28
    bars_w = width - label_w - count_w
    total = sum(counts.values())
    top = max(counts.values(), default=0)
    rows = []
    for index, (verdict, (icon, label)) in enumerate(_VERDICT_TEXT.items()):
        count = counts.get(verdict, 0)
        w = round(count / top * bars_w, 1) if top else 0
        rows.append(
            {
                "verdict": verdict,
                "icon": icon,
                "label": label,
                "count": count,
                "percent": round(count / total * 100) if total else 0,
                "y": index * row_h,
                "w": w,
                "count_x": round(label_w + w + 8, 1),
            }
        )
    return {
        "rows": rows,
        "total": total,
        "width": width,
        "height": len(rows) * row_h,
        "label_w": label_w,
        "bar_h": row_h - 8,
        "text_y": row_h - 12,
    }
