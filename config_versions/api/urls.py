"""Mount with ``path("api/", include("config_versions.api.urls"))``."""

from __future__ import annotations

from django.urls import path

from config_versions.api import labels, proposals, views

app_name = "config_versions_api"

# Slugs, version numbers and labels are matched loosely and checked by the views, so that a
# malformed one gets the API's JSON 400/404 rather than the site's HTML 404 page.
urlpatterns = [
    path("configs/", views.ConfigListView.as_view(), name="config-list"),
    path("configs/<str:slug>/", views.ConfigDetailView.as_view(), name="config-detail"),
    path("configs/<str:slug>/versions/", views.VersionListView.as_view(), name="version-list"),
    path(
        "configs/<str:slug>/versions/<str:version>/",
        views.VersionDetailView.as_view(),
        name="version-detail",
    ),
    path("configs/<str:slug>/diff/", views.DiffView.as_view(), name="diff"),
    path("configs/<str:slug>/rollback/", views.RollbackView.as_view(), name="rollback"),
    path("configs/<str:slug>/labels/", labels.LabelListView.as_view(), name="label-list"),
    path(
        "configs/<str:slug>/labels/<str:label>/",
        labels.LabelDetailView.as_view(),
        name="label-detail",
    ),
    path(
        "configs/<str:slug>/labels/<str:label>/history/",
        labels.LabelHistoryView.as_view(),
        name="label-history",
    ),
    path(
        "configs/<str:slug>/proposals/",
        proposals.ProposalListView.as_view(),
        name="proposal-list",
    ),
    path(
        "configs/<str:slug>/proposals/<str:id>/",
        proposals.ProposalDetailView.as_view(),
        name="proposal-detail",
    ),
    path(
        "configs/<str:slug>/proposals/<str:id>/reviews/",
        proposals.ProposalReviewView.as_view(),
        name="proposal-reviews",
    ),
    path(
        "configs/<str:slug>/proposals/<str:id>/apply/",
        proposals.ProposalApplyView.as_view(),
        name="proposal-apply",
    ),
    path(
        "configs/<str:slug>/proposals/<str:id>/withdraw/",
        proposals.ProposalWithdrawView.as_view(),
        name="proposal-withdraw",
    ),
    path(
        "configs/<str:slug>/proposals/<str:id>/revisions/",
        proposals.ProposalRevisionView.as_view(),
        name="proposal-revisions",
    ),
]
