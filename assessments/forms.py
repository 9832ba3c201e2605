"""HTML forms for reviewers, curators, visitors and accounts.

The assessment form checks only what a draft needs (well-formed addresses and dates, evidence
rows that are complete enough to keep); whether a draft is complete enough to submit is decided
by ``services.assessments.assessment_problems`` so the web form and the API apply one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from assessments.models import (
    REVIEW_BODY_MAX,
    Assessment,
    Criterion,
    Rating,
    Review,
)
from catalog.models import Claim, Provider

EMPTY_EVIDENCE_SLOTS = 1
MAX_EVIDENCE = 10


class SignUpForm(UserCreationForm):
    email = forms.EmailField(
        help_text="For password resets and notes from curators; never shown publicly."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account already uses this address; sign in instead.")
        return email


class StartAssessmentForm(forms.Form):
    provider = forms.ModelChoiceField(
        queryset=Provider.objects.order_by("name"), empty_label="Choose a provider"
    )


@dataclass
class EvidenceRow:
    url: forms.BoundField
    quote: forms.BoundField
    read_on: forms.BoundField


@dataclass
class CriterionRow:
    criterion: Criterion
    value: forms.BoundField
    justification: forms.BoundField
    evidence: list[EvidenceRow]
    count_name: str


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class AssessmentForm(forms.Form):
    """The whole assessment on one page: overall fields, then per criterion its rating,
    justification and evidence rows (source address, exact quote, date read)."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    verdict = forms.ChoiceField(choices=Assessment.Verdict.choices)
    conclusion = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    server_locations = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    data_processing = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    strengths = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="One per line."
    )
    weaknesses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="One per line."
    )
    assessed_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day you read the sources.",
    )

    def __init__(self, *args, assessment: Assessment, **kwargs) -> None:
        self.assessment = assessment
        self.criteria = list(Criterion.objects.filter(active=True))
        ratings = {
            r.criterion_id: r
            for r in assessment.ratings.select_related("criterion").prefetch_related(
                "evidence__source"
            )
        }
        initial = {
            "revision": assessment.revision,
            "verdict": assessment.verdict,
            "conclusion": assessment.conclusion,
            "server_locations": assessment.server_locations,
            "data_processing": assessment.data_processing,
            "strengths": "\n".join(assessment.strengths),
            "weaknesses": "\n".join(assessment.weaknesses),
            "assessed_on": assessment.assessed_on,
        }
        data = args[0] if args else kwargs.get("data")
        self._slots: dict[str, int] = {}
        for criterion in self.criteria:
            slug = criterion.slug
            rating = ratings.get(criterion.pk)
            evidence = list(rating.evidence.all()) if rating else []
            if data is not None:
                try:
                    slots = int(data.get(f"{slug}-evcount", ""))
                except ValueError:
                    slots = len(evidence) + EMPTY_EVIDENCE_SLOTS
                if data.get(f"add-evidence-{slug}"):
                    slots += 1
            else:
                slots = len(evidence) + EMPTY_EVIDENCE_SLOTS
            slots = max(1, min(slots, MAX_EVIDENCE))
            self._slots[slug] = slots
            initial[f"{slug}-value"] = rating.value if rating else ""
            initial[f"{slug}-justification"] = rating.justification if rating else ""
            for i, ev in enumerate(evidence):
                initial[f"{slug}-ev{i}-url"] = ev.source.url
                initial[f"{slug}-ev{i}-quote"] = ev.quote
                initial[f"{slug}-ev{i}-read_on"] = ev.read_on
        super().__init__(*args, initial=initial, **kwargs)
        for criterion in self.criteria:
            slug = criterion.slug
            self.fields[f"{slug}-value"] = forms.ChoiceField(
                label=f"{criterion.name}: rating",
                choices=[("", "Not rated yet"), *Rating.Value.choices],
                required=False,
            )
            self.fields[f"{slug}-justification"] = forms.CharField(
                label=f"{criterion.name}: justification",
                widget=forms.Textarea(attrs={"rows": 3}),
                required=False,
            )
            for i in range(self._slots[slug]):
                self.fields[f"{slug}-ev{i}-url"] = forms.URLField(
                    label=f"{criterion.name}: source address {i + 1}",
                    required=False,
                    max_length=1000,
                    assume_scheme="https",
                )
                self.fields[f"{slug}-ev{i}-quote"] = forms.CharField(
                    label=f"{criterion.name}: exact quote {i + 1}",
                    widget=forms.Textarea(attrs={"rows": 2}),
                    required=False,
                )
                self.fields[f"{slug}-ev{i}-read_on"] = forms.DateField(
                    label=f"{criterion.name}: date read {i + 1}",
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}),
                )

    def rows(self) -> list[CriterionRow]:
        return [
            CriterionRow(
                criterion=c,
                value=self[f"{c.slug}-value"],
                justification=self[f"{c.slug}-justification"],
                evidence=[
                    EvidenceRow(
                        url=self[f"{c.slug}-ev{i}-url"],
                        quote=self[f"{c.slug}-ev{i}-quote"],
                        read_on=self[f"{c.slug}-ev{i}-read_on"],
                    )
                    for i in range(self._slots[c.slug])
                ],
                count_name=f"{c.slug}-evcount",
            )
            for c in self.criteria
        ]

    def slots(self, slug: str) -> int:
        return self._slots[slug]

    def clean(self):
        data = super().clean()
        for criterion in self.criteria:
            slug = criterion.slug
            typed = bool((data.get(f"{slug}-justification") or "").strip())
            for i in range(self._slots[slug]):
                url = data.get(f"{slug}-ev{i}-url")
                quote = (data.get(f"{slug}-ev{i}-quote") or "").strip()
                read_on = data.get(f"{slug}-ev{i}-read_on")
                bad = any(
                    f"{slug}-ev{i}-{part}" in self.errors for part in ("url", "quote", "read_on")
                )
                if not (url or quote or read_on) or bad:
                    continue
                typed = True
                if not url:
                    self.add_error(f"{slug}-ev{i}-url", "Give the address of the source.")
                if not read_on:
                    self.add_error(f"{slug}-ev{i}-read_on", "Give the date you read it.")
            if typed and not data.get(f"{slug}-value"):
                self.add_error(
                    f"{slug}-value",
                    "Choose a rating for this criterion to keep its justification and evidence.",
                )
        return data

    def top_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "verdict": data["verdict"],
            "conclusion": data["conclusion"],
            "server_locations": data["server_locations"],
            "data_processing": data["data_processing"],
            "strengths": _lines(data["strengths"]),
            "weaknesses": _lines(data["weaknesses"]),
            "assessed_on": data["assessed_on"],
        }

    def rating_rows(self) -> list[tuple[Criterion, str, str, list[tuple[str, str, object]]]]:
        """(criterion, value, justification, [(url, quote, read_on)]) for each rated criterion."""
        out = []
        for criterion in self.criteria:
            slug = criterion.slug
            value = self.cleaned_data.get(f"{slug}-value")
            if not value:
                continue
            evidence = []
            for i in range(self._slots[slug]):
                url = self.cleaned_data.get(f"{slug}-ev{i}-url")
                read_on = self.cleaned_data.get(f"{slug}-ev{i}-read_on")
                if url and read_on:
                    quote = (self.cleaned_data.get(f"{slug}-ev{i}-quote") or "").strip()
                    evidence.append((url, quote, read_on))
            out.append(
                (criterion, value, self.cleaned_data[f"{slug}-justification"].strip(), evidence)
            )
        return out

    def field_for_problem(self, path: str) -> str | None:
        """The form field an ``assessment_problems`` path points at."""
        if path in self.fields:
            return path
        parts = path.split(".")
        if parts[0] != "ratings" or len(parts) < 3:
            return None
        slug, what = parts[1], parts[2]
        if what in {"value", "justification"}:
            return f"{slug}-{what}"
        if what == "evidence":
            if len(parts) == 3:
                return f"{slug}-ev0-url"
            name = f"{slug}-ev{parts[3]}-{parts[4]}"
            return name if name in self.fields else None
        return None


class ModerationForm(forms.Form):
    ACTIONS = (
        ("comment", "Comment"),
        ("request_changes", "Request changes"),
        ("reject", "Reject"),
        ("approve", "Approve and publish"),
    )

    revision = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect)
    text = forms.CharField(
        label="Comment or reason",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=4000,
        help_text="Required to comment, request changes or reject; on approval it is recorded "
        "as the reason for the change.",
    )

    def __init__(self, *args, approve_label: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if approve_label:
            self.fields["action"].choices = [
                (value, approve_label if value == "approve" else label)
                for value, label in self.ACTIONS
            ]


class RevertForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class CommentForm(forms.Form):
    text = forms.CharField(
        label="Comment", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class CorrectionForm(forms.Form):
    value = forms.CharField(
        label="New value",
        required=False,
        max_length=300,
        help_text="Leave empty to keep the current value. Flags: yes, no, partial or unknown.",
    )
    value_unit = forms.CharField(label="Unit (numbers only)", required=False, max_length=30)
    condition = forms.CharField(
        label="New condition",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Leave empty to keep the current condition.",
    )
    source_url = forms.URLField(
        label="New source address", required=False, max_length=1000, assume_scheme="https"
    )
    evidence_quote = forms.CharField(
        label="New exact quote", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    reason = forms.CharField(
        label="Why the claim is wrong",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )

    def __init__(self, *args, claim: Claim, **kwargs) -> None:
        self.claim = claim
        super().__init__(*args, **kwargs)

    def clean_value(self) -> str:
        value = self.cleaned_data["value"].strip()
        if not value:
            return value
        kind = self.claim.key.value_type
        if kind == "flag" and value not in Claim.Flag.values:
            raise forms.ValidationError(
                f"“{value}” is not a flag; use one of {', '.join(Claim.Flag.values)}."
            )
        if kind == "number":
            from decimal import Decimal, InvalidOperation

            try:
                Decimal(value)
            except InvalidOperation:
                raise forms.ValidationError(f"“{value}” is not a number.") from None
        return value


class CorrectionAmendForm(CorrectionForm):
    """The author's correction, sent back by a curator, to amend and submit again."""

    revision = forms.IntegerField(widget=forms.HiddenInput)


class ReviewForm(forms.ModelForm):
    # A field people never see; bots fill every field they find.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    body = forms.CharField(
        label="Your review",
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": REVIEW_BODY_MAX}),
        max_length=REVIEW_BODY_MAX,
    )
    rating = forms.TypedChoiceField(
        coerce=int,
        choices=[(n, f"{n} of 5") for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Review
        fields = ("rating", "title", "body", "author_name", "email")
        labels = {"author_name": "Your name as shown", "email": "Your e-mail address"}
        help_texts = {"email": "We send a confirmation link there; it is never shown."}


class ReportForm(forms.Form):
    reason = forms.CharField(
        label="Why should a curator look at this review?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )


class ReviewDecisionForm(forms.Form):
    ACTIONS = (("keep", "Keep it published"), ("hide", "Hide it"))

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect)
    text = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
