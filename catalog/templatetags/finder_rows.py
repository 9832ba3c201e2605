"""The finder's result lists, written out in one tag per outcome.

A finder page shows up to 75 models with two or three findings each; through nested
includes and per-finding ``{% url %}`` tags the template spent longer on them than the
judge did. The markup is what those partials gave: every text is escaped, each mark pairs
an icon with a word.
"""

from __future__ import annotations

import functools

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from catalog.models import AIModel, Licence
from catalog.requirements import Finding, ModelResult, Outcome
from catalog.templatetags.marks import freshness_badge

register = template.Library()

_STATUS_TEXT = {
    "met": ("✓", "Met"),
    "conditional": ("◐", "Under conditions"),
    "unmet": ("✗", "Not met"),
}
_UNKNOWN_TEXT = ("?", "Unknown")
_KIND_BADGE = {
    Licence.Kind.RESEARCH_ONLY: mark_safe(
        '<span class="badge kind-research_only"><span aria-hidden="true">⚠</span> '
        "Research only — not for production</span>"
    ),
    Licence.Kind.PERMISSIVE: mark_safe(
        '<span class="badge kind-permissive">Permissive open source</span>'
    ),
    Licence.Kind.OPEN_WEIGHTS_RESTRICTED: mark_safe(
        '<span class="badge kind-open_weights_restricted">Open weights, use restricted</span>'
    ),
}
_PROPRIETARY_BADGE = mark_safe('<span class="badge kind-proprietary">Proprietary terms</span>')


# The same few licences and many of the same claims appear on every finder page.
@functools.lru_cache(maxsize=4096)
def _url(name: str, arg: str | int) -> str:
    return reverse(name, args=[arg])


@register.simple_tag
def finder_rows(results: list[ModelResult], outcome: str) -> SafeString:
    """The ``<li>`` rows of one outcome's list: the model, then why it landed there.

    ``outcome`` is an ``Outcome`` value: models that qualify show every finding behind a
    disclosure, conditional ones their conditions first, failing ones what failed.
    """
    return mark_safe("".join(_row(result, outcome) for result in results))


def _row(result: ModelResult, outcome: str) -> str:
    head = _model(result.model)
    if outcome == Outcome.QUALIFIES:
        body = format_html(
            "<details><summary>Why it qualifies</summary>{}</details>", _findings(result.findings)
        )
    elif outcome == Outcome.CONDITIONAL:
        body = format_html(
            '<p class="small"><strong>Conditions:</strong></p>{}\n    '
            "<details><summary>All findings</summary>{}</details>",
            _findings(result.conditions),
            _findings(result.findings),
        )
    else:
        body = format_html(
            '<p class="small"><strong>Why not:</strong></p>{}', _findings(result.failing)
        )
    return format_html("\n  <li>{}\n    {}</li>", head, body)


def _licence_link(licence: Licence) -> SafeString:
    return format_html('<a href="{}">{}</a>', _url("catalog:licence", licence.slug), licence.name)


def _model(model: AIModel) -> SafeString:
    licence = model.licence
    if licence is not None:
        badge = format_html(
            "{} {}", _licence_link(licence), _KIND_BADGE.get(licence.kind, _PROPRIETARY_BADGE)
        )
    else:
        badge = mark_safe('<span class="muted">licence not recorded</span>')
    if model.weights == AIModel.Weights.UNKNOWN:
        weights = mark_safe('<span class="muted">weights not recorded</span>')
    else:
        weights = conditional_escape(model.get_weights_display())
    return format_html(
        '<a href="{}"><strong>{}</strong></a> <span class="muted">by {}</span> · {} · {}',
        _url("catalog:model", model.slug),
        model.name,
        model.provider.name,
        badge,
        weights,
    )


def _findings(findings: list[Finding]) -> SafeString:
    return format_html(
        '<ul class="findings">{}\n</ul>', mark_safe("".join(_finding(f) for f in findings))
    )


def _finding(finding: Finding) -> str:
    icon, word = _STATUS_TEXT.get(finding.status, _UNKNOWN_TEXT)
    condition = (
        format_html(" <em>Condition: {}</em>", finding.condition) if finding.condition else ""
    )
    evidence = []
    if finding.claim is not None:
        evidence.append(
            format_html('<a href="{}">claim</a>', _url("catalog:claim", finding.claim.pk))
        )
    if finding.source is not None:
        source = finding.source
        if source.url:
            link = format_html('<a href="{}" rel="noopener">{}</a>', source.url, source.title)
        else:
            link = format_html(
                '{} <span class="muted small">(no public address)</span>', source.title
            )
        evidence.append(format_html(" · source: {}", link))
    elif finding.licence is not None:
        licence = finding.licence
        text = (
            format_html(' (<a href="{}" rel="noopener">text</a>)', licence.url)
            if licence.url
            else ""
        )
        evidence.append(format_html(" · licence: {}{}", _licence_link(licence), text))
    if finding.checked_at:
        evidence.append(
            format_html(
                " · checked {} {}",
                f"{finding.checked_at:%Y-%m-%d}",
                freshness_badge(finding.checked_at),
            )
        )
    return format_html(
        '\n  <li class="finding finding-{}">\n    <span class="mark"><span class="icon" '
        'aria-hidden="true">{}</span> {}</span>\n    <strong>{}</strong>\n    — {}{}\n    '
        '<span class="evidence small">{}</span>\n  </li>',
        finding.status,
        icon,
        word,
        finding.label,
        finding.reason,
        condition,
        mark_safe("\n    ".join(evidence)),
    )
