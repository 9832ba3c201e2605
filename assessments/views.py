"""HTML pages for accounts, reviewers, curators and public reviews.

Views parse the request, call the services (``assessments.services``) and render; what a user
may see comes from the querysets in ``assessments.selectors`` (so someone else's draft is a
404). A refused write is shown on the page with the HTTP status its error names.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assessments import selectors
from assessments.forms import (
    AssessmentForm,
    CommentForm,
    CorrectionAmendForm,
    CorrectionForm,
    ModerationForm,
    ReportForm,
    RevertForm,
    ReviewDecisionForm,
    ReviewForm,
    SignUpForm,
    StartAssessmentForm,
)
from assessments.models import Assessment, ClaimCorrection, Review
from assessments.permissions import IsCurator, IsReviewer, is_curator, is_reviewer
from assessments.services import public_reviews
from assessments.services.assessments import (
    EDITABLE_STATUSES,
    EvidenceInput,
    RatingInput,
    assessment_approve,
    assessment_draft_save,
    assessment_problems,
    assessment_reject,
    assessment_request_changes,
    assessment_revert,
    assessment_start,
    assessment_submit,
    evidence_source_for_url,
)
from assessments.services.corrections import (
    claim_correction_amend,
    claim_correction_approve,
    claim_correction_create,
    claim_correction_reject,
    claim_correction_request_changes,
    claim_correction_submit,
)
from assessments.services.moderation import (
    AssessmentError,
    thread_comment,
)
from assessments.services.roles import user_register
from atlas.client_address import client_address
from catalog.models import Claim, Provider


def _reviewer_only(request: HttpRequest) -> None:
    if not is_reviewer(request.user):
        raise PermissionDenied(IsReviewer.message)


def _curator_only(request: HttpRequest) -> None:
    if not is_curator(request.user):
        raise PermissionDenied(IsCurator.message)


def _get_or_404(queryset, **lookup):
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404("Not found, or not yours to see.")
    return found


# --- accounts --------------------------------------------------------------------------------


def signup(request: HttpRequest) -> HttpResponse:
    """Anyone may become a reviewer; curators are appointed by an admin."""
    if request.user.is_authenticated:
        return redirect("assessments:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            user_register(user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. You can now review.")
        return redirect("assessments:dashboard")
    return render(request, "registration/signup.html", {"form": form})


# --- reviewers -------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    return render(
        request,
        "assessments/dashboard.html",
        {
            "assessments": selectors.own_assessments(user=request.user).order_by("-updated_at"),
            "corrections": selectors.own_corrections(user=request.user)[:50],
            "start_form": StartAssessmentForm(),
            "is_curator": is_curator(request.user),
        },
    )


@login_required
@require_POST
def assessment_new(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    form = StartAssessmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a provider to assess.")
        return redirect("assessments:dashboard")
    draft = assessment_start(author=request.user, provider=form.cleaned_data["provider"])
    messages.success(request, f"Draft started for {draft.provider.name}.")
    return redirect("assessments:edit", pk=draft.pk)


def _save_draft(request, form: AssessmentForm, assessment: Assessment) -> Assessment:
    provider = assessment.provider
    ratings = [
        RatingInput(
            criterion=criterion,
            value=value,
            justification=justification,
            evidence=[
                EvidenceInput(
                    source=evidence_source_for_url(url=url, provider=provider),
                    quote=quote,
                    read_on=read_on,
                )
                for url, quote, read_on in evidence
            ],
        )
        for criterion, value, justification, evidence in form.rating_rows()
    ]
    return assessment_draft_save(
        assessment=assessment,
        editor=request.user,
        revision=form.cleaned_data["revision"],
        ratings=ratings,
        **form.top_fields(),
    )


@login_required
def assessment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _reviewer_only(request)
    assessment = _get_or_404(selectors.own_assessments(user=request.user), pk=pk)
    editable = assessment.status in EDITABLE_STATUSES
    problems: list[str] = []
    if request.method == "POST" and editable:
        form = AssessmentForm(request.POST, assessment=assessment)
        if request.POST.get("add-evidence") or any(
            k.startswith("add-evidence-") for k in request.POST
        ):
            # Only a new empty row was asked for: show the form again with everything typed.
            return render(request, "assessments/edit.html", _edit_context(assessment, form, []))
        if form.is_valid():
            try:
                with transaction.atomic():
                    saved = _save_draft(request, form, assessment)
            except AssessmentError as exc:
                form.add_error(None, exc.message)
            else:
                if "submit" not in request.POST:
                    messages.success(request, "Draft saved.")
                    return redirect("assessments:edit", pk=saved.pk)
                found = assessment_problems(assessment=saved)
                if not found:
                    try:
                        assessment_submit(
                            assessment=saved, author=request.user, revision=saved.revision
                        )
                    except AssessmentError as exc:
                        form.add_error(None, exc.message)
                    else:
                        messages.success(request, "Submitted. A curator will review it.")
                        return redirect("assessments:edit", pk=saved.pk)
                # Saved as a draft but incomplete: show every problem next to its field,
                # with what was typed (the revision moved on with the save).
                data = request.POST.copy()
                data["revision"] = str(saved.revision)
                assessment = saved
                form = AssessmentForm(data, assessment=saved)
                form.is_valid()
                for path, message in found:
                    name = form.field_for_problem(path)
                    form.add_error(name if name in form.fields else None, message)
                    problems.append(message)
        return render(
            request, "assessments/edit.html", _edit_context(assessment, form, problems), status=400
        )
    form = AssessmentForm(assessment=assessment)
    return render(request, "assessments/edit.html", _edit_context(assessment, form, problems))


def _edit_context(assessment: Assessment, form: AssessmentForm, problems: list[str]) -> dict:
    return {
        "assessment": assessment,
        "form": form,
        "rows": form.rows(),
        "problems": problems,
        "editable": assessment.status in EDITABLE_STATUSES,
        "notes": selectors.notes_for(assessment=assessment),
        "comment_form": CommentForm(),
    }


@login_required
@require_POST
def assessment_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment on the moderation thread, by the author or a curator."""
    _reviewer_only(request)
    assessment = _get_or_404(selectors.assessment_threads_visible_to(user=request.user), pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            thread_comment(assessment=assessment, user=request.user, text=form.cleaned_data["text"])
        except AssessmentError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Write a comment first.")
    if assessment.author_id == request.user.pk:
        return redirect("assessments:edit", pk=pk)
    return redirect("assessments:moderate", pk=pk)


def _correction_fields(form: CorrectionForm, claim: Claim) -> dict:
    """The service's fields for what ``form`` (valid) proposes for ``claim``; a source address
    on a model's claim is refused on the form (such sources are added in the admin)."""
    data = form.cleaned_data
    value = data["value"]
    kind = claim.key.value_type
    if data["source_url"] and not claim.provider_id:
        form.add_error("source_url", "Propose new sources for model claims in the admin.")
        raise AssessmentError("source on a model claim", path="source_url")
    return {
        "reason": data["reason"],
        "value_flag": value if kind == "flag" else "",
        "value_number": Decimal(value) if kind == "number" and value else None,
        "value_text": value if kind == "text" else "",
        "value_unit": data["value_unit"].strip(),
        "condition": data["condition"].strip() or None,
        "evidence_quote": data["evidence_quote"].strip() or None,
        "source": (
            evidence_source_for_url(url=data["source_url"], provider=claim.provider)
            if data["source_url"]
            else None
        ),
    }


_CORRECTION_FORM_FIELDS = {
    "reason": "reason",
    "value_flag": "value",
    "value_number": "value",
    "value_text": "value",
    "value_unit": "value_unit",
    "condition": "condition",
    "evidence_quote": "evidence_quote",
    "source": "source_url",
}


def _correction_error(form: CorrectionForm, exc: AssessmentError) -> None:
    if exc.path == "source_url":
        return  # already on the form
    form.add_error(_CORRECTION_FORM_FIELDS.get(exc.path), exc.message)


@login_required
def claim_correct(request: HttpRequest, pk: int) -> HttpResponse:
    _reviewer_only(request)
    claim = get_object_or_404(Claim.objects.select_related("key", "source", "provider"), pk=pk)
    form = CorrectionForm(request.POST or None, claim=claim)
    if request.method == "POST" and form.is_valid():
        try:
            correction = claim_correction_create(
                author=request.user, claim=claim, **_correction_fields(form, claim)
            )
        except AssessmentError as exc:
            _correction_error(form, exc)
        else:
            messages.success(
                request, f"Correction {correction.pk} proposed; a curator will decide."
            )
            return redirect("assessments:correction_edit", pk=correction.pk)
    return render(
        request,
        "assessments/correct.html",
        {"claim": claim, "form": form},
        status=400 if form.errors else 200,
    )


def _correction_initial(correction: ClaimCorrection) -> dict:
    value = correction.value_flag or correction.value_text
    if correction.value_number is not None:
        value = f"{correction.value_number.normalize():f}"
    return {
        "value": value,
        "value_unit": correction.value_unit,
        "condition": correction.condition or "",
        "source_url": correction.source.url if correction.source_id else "",
        "evidence_quote": correction.evidence_quote or "",
        "reason": correction.reason,
        "revision": correction.revision,
    }


@login_required
def correction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The author's page of a correction: its state and thread and, when a curator asked for
    changes, the proposal to amend and submit again."""
    _reviewer_only(request)
    correction = _get_or_404(
        selectors.own_corrections(user=request.user).select_related(
            "claim__source", "claim__provider", "source"
        ),
        pk=pk,
    )
    claim = correction.claim
    editable = correction.status == ClaimCorrection.Status.CHANGES_REQUESTED
    form = None
    status = 200
    if editable:
        form = CorrectionAmendForm(
            request.POST or None, claim=claim, initial=_correction_initial(correction)
        )
        if request.method == "POST":
            if form.is_valid():
                try:
                    with transaction.atomic():
                        amended = claim_correction_amend(
                            correction=correction,
                            author=request.user,
                            revision=form.cleaned_data["revision"],
                            **_correction_fields(form, claim),
                        )
                        claim_correction_submit(
                            correction=amended, author=request.user, revision=amended.revision
                        )
                except AssessmentError as exc:
                    _correction_error(form, exc)
                    if exc.code == "conflict":
                        form.add_error(None, exc.message)
                else:
                    messages.success(request, "Submitted again. A curator will decide.")
                    return redirect("assessments:correction_edit", pk=pk)
            status = 409 if form.non_field_errors() else 400
    elif request.method == "POST":
        messages.error(request, "This correction is with the curators; it cannot be changed.")
        return redirect("assessments:correction_edit", pk=pk)
    return render(
        request,
        "assessments/correction_edit.html",
        {
            "correction": correction,
            "claim": claim,
            "form": form,
            "notes": selectors.notes_for(correction=correction),
        },
        status=status,
    )


# --- curators --------------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _curator_only(request)
    provider = request.GET.get("provider", "").strip()
    author = request.GET.get("author", "").strip()
    raw_age = request.GET.get("older_than", "").strip()
    notes = []
    older = None
    if raw_age:
        try:
            older = int(raw_age)
            if older < 0:
                raise ValueError
        except ValueError:
            notes.append(f"Ignored the age “{raw_age[:20]}”: give a whole number of days.")
            older = None
    return render(
        request,
        "assessments/queue.html",
        {
            "submissions": selectors.submissions_for_curator(
                user=request.user, provider=provider, author=author, older_than_days=older
            ),
            "corrections": selectors.corrections_for_curator(
                user=request.user, provider=provider, author=author
            ),
            "reported": selectors.reported_reviews(),
            "published": selectors.assessments_for_curator(user=request.user)
            .filter(status=Assessment.Status.PUBLISHED)
            .order_by("-published_at")[:20],
            "providers": Provider.objects.order_by("name"),
            "authors": get_user_model()
            .objects.filter(assessments__status=Assessment.Status.SUBMITTED)
            .distinct()
            .order_by("username"),
            "filters": {"provider": provider, "author": author, "older_than": raw_age},
            "notes": notes,
        },
    )


@login_required
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    _curator_only(request)
    assessment = _get_or_404(selectors.assessments_for_curator(user=request.user), pk=pk)
    form = ModerationForm(
        request.POST or None, initial={"revision": assessment.revision, "action": "comment"}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            action = form.cleaned_data["action"]
            text = form.cleaned_data["text"]
            revision = form.cleaned_data["revision"]
            try:
                if action == "comment":
                    thread_comment(assessment=assessment, user=request.user, text=text)
                elif action == "request_changes":
                    assessment_request_changes(
                        assessment=assessment, curator=request.user, revision=revision, comment=text
                    )
                elif action == "reject":
                    assessment_reject(
                        assessment=assessment, curator=request.user, revision=revision, reason=text
                    )
                else:
                    assessment_approve(
                        assessment=assessment, curator=request.user, revision=revision, comment=text
                    )
            except AssessmentError as exc:
                form.add_error("text" if exc.path == "text" else None, exc.message)
                status = exc.http_status
            else:
                if action == "approve":
                    messages.success(
                        request,
                        f"Approved: assessment #{pk} of {assessment.provider.name} is published "
                        "on this page.",
                    )
                    return redirect("catalog:provider", slug=assessment.provider.slug)
                done = dict(ModerationForm.ACTIONS)[action].lower()
                messages.success(request, f"Done: {done}.")
                return redirect("assessments:moderate", pk=pk)
        else:
            status = 400
    return render(
        request,
        "assessments/moderate.html",
        {
            "assessment": assessment,
            "comparison": selectors.comparison(submission=assessment),
            "form": form,
            "revert_form": RevertForm(initial={"revision": assessment.revision}),
            "notes": selectors.notes_for(assessment=assessment),
            "own": assessment.author_id == request.user.pk,
        },
        status=status,
    )


@login_required
@require_POST
def revert(request: HttpRequest, pk: int) -> HttpResponse:
    _curator_only(request)
    assessment = _get_or_404(selectors.assessments_for_curator(user=request.user), pk=pk)
    form = RevertForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for reverting.")
        return redirect("assessments:moderate", pk=pk)
    try:
        assessment_revert(
            assessment=assessment,
            curator=request.user,
            revision=form.cleaned_data["revision"],
            reason=form.cleaned_data["reason"],
        )
    except AssessmentError as exc:
        messages.error(request, exc.message)
        return redirect("assessments:moderate", pk=pk)
    messages.success(
        request,
        f"Reverted: assessment #{pk} of {assessment.provider.name} is withdrawn and the "
        "previous assessment is published again on this page.",
    )
    return redirect("catalog:provider", slug=assessment.provider.slug)


@login_required
def correction_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    _curator_only(request)
    correction = get_object_or_404(
        ClaimCorrection.objects.select_related(
            "claim__key", "claim__source", "claim__provider", "source", "author"
        ),
        pk=pk,
    )
    form = ModerationForm(
        request.POST or None,
        initial={"revision": correction.revision, "action": "comment"},
        approve_label="Approve and apply to the claim",
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        action, text = form.cleaned_data["action"], form.cleaned_data["text"]
        revision = form.cleaned_data["revision"]
        try:
            if action == "comment":
                thread_comment(correction=correction, user=request.user, text=text)
            elif action == "request_changes":
                claim_correction_request_changes(
                    correction=correction, curator=request.user, revision=revision, comment=text
                )
            elif action == "reject":
                claim_correction_reject(
                    correction=correction, curator=request.user, revision=revision, reason=text
                )
            else:
                claim_correction_approve(
                    correction=correction, curator=request.user, revision=revision, comment=text
                )
        except AssessmentError as exc:
            form.add_error("text" if exc.path == "text" else None, exc.message)
            status = exc.http_status
        else:
            done = dict(form.fields["action"].choices)[action].lower()
            messages.success(request, f"Done: {done}.")
            return redirect("assessments:correction", pk=pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "assessments/correction.html",
        {
            "correction": correction,
            "claim": correction.claim,
            "form": form,
            "notes": selectors.notes_for(correction=correction),
            "own": correction.author_id == request.user.pk,
        },
        status=status,
    )


@login_required
def review_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    _curator_only(request)
    review = get_object_or_404(Review.objects.select_related("provider"), pk=pk)
    form = ReviewDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            public_reviews.review_decide(
                review=review,
                curator=request.user,
                hide=form.cleaned_data["action"] == "hide",
                reason=form.cleaned_data["text"],
            )
        except AssessmentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Decided; the reports are closed.")
            return redirect("assessments:queue")
    return render(
        request,
        "assessments/review_moderate.html",
        {"review": review, "reports": review.reports.all(), "form": form},
        status=400 if form.errors else 200,
    )


# --- public reviews --------------------------------------------------------------------------


def provider_reviews(request: HttpRequest, slug: str) -> HttpResponse:
    provider = get_object_or_404(Provider, slug=slug)
    form = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                public_reviews.review_post(
                    provider=provider,
                    rating=data["rating"],
                    title=data["title"],
                    body=data["body"],
                    author_name=data["author_name"],
                    email=data["email"],
                    client_ip=client_address(request),
                    honeypot=data.get("website", ""),
                    confirm_url=lambda token: request.build_absolute_uri(
                        reverse("assessments:review_confirm", args=[token])
                    ),
                )
            except AssessmentError as exc:
                form.add_error(exc.path if exc.path in form.fields else None, exc.message)
                status = exc.http_status
            else:
                # The same answer when the honeypot stopped it: bots learn nothing.
                messages.success(
                    request,
                    "Thank you. We sent you an e-mail: your review is shown once you open the "
                    "link in it.",
                )
                return redirect("assessments:reviews", slug=slug)
        else:
            status = 400
    return render(
        request,
        "assessments/reviews.html",
        {
            "provider": provider,
            "reviews": selectors.reviews_shown(provider=provider),
            "form": form,
            "report_form": ReportForm(),
        },
        status=status,
    )


def review_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (so link scanners confirm nothing); POST confirms."""
    if request.method == "POST":
        try:
            review = public_reviews.review_confirm(token=token)
        except AssessmentError as exc:
            return render(
                request, "assessments/review_confirm.html", {"error": exc.message}, status=400
            )
        messages.success(
            request, f"Thank you: your review “{review.title}” of {review.provider.name} is shown."
        )
        return redirect(
            reverse("assessments:reviews", args=[review.provider.slug]) + f"#review-{review.pk}"
        )
    try:
        review = public_reviews.review_for_token(token=token)
    except AssessmentError as exc:
        return render(
            request, "assessments/review_confirm.html", {"error": exc.message}, status=400
        )
    return render(request, "assessments/review_confirm.html", {"token": token, "review": review})


@require_POST
def review_report(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(
        Review.objects.select_related("provider"), pk=pk, status=Review.Status.PUBLISHED
    )
    form = ReportForm(request.POST)
    target = reverse("assessments:reviews", args=[review.provider.slug])
    if not form.is_valid():
        messages.error(request, "Say why the review should be looked at.")
        return redirect(f"{target}#review-{pk}")
    try:
        public_reviews.review_report(
            review=review, reason=form.cleaned_data["reason"], client_ip=client_address(request)
        )
    except AssessmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Thank you: a curator will look at this review.")
    return redirect(f"{target}#review-{pk}")
