from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("assessments/new/", views.assessment_new, name="new"),
    path("assessments/<int:pk>/", views.assessment_edit, name="edit"),
    path("assessments/<int:pk>/comment/", views.assessment_comment, name="comment"),
    path("claims/<int:pk>/correct/", views.claim_correct, name="correct"),
    path("corrections/<int:pk>/", views.correction_edit, name="correction_edit"),
    path("queue/", views.queue, name="queue"),
    path("queue/assessments/<int:pk>/", views.moderate, name="moderate"),
    path("queue/assessments/<int:pk>/revert/", views.revert, name="revert"),
    path("queue/corrections/<int:pk>/", views.correction_moderate, name="correction"),
    path("queue/reviews/<int:pk>/", views.review_moderate, name="review_moderate"),
    path("providers/<slug:slug>/reviews/", views.provider_reviews, name="reviews"),
    path("reviews/confirm/<str:token>/", views.review_confirm, name="review_confirm"),
    path("reviews/<int:pk>/report/", views.review_report, name="review_report"),
]

account_urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("accounts:password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
