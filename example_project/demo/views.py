"""The example site's front page: where to go, who may do what, releases and review."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from config_versions import releases
from config_versions.conf import settings
from demo.data import GROUPS, PEOPLE, STAFF_PASSWORD, label_movers, reviewers


class IndexView(TemplateView):
    template_name = "index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["roles"] = [
            {
                "group": group,
                "people": [p.username for p in PEOPLE if p.group == group and p.is_staff],
                "description": role.description,
            }
            for group, role in GROUPS.items()
            if any(p.group == group and p.is_staff for p in PEOPLE)
        ]
        context["staff_password"] = STAFF_PASSWORD
        context["labels"] = [
            {
                "name": name,
                "protected": releases.is_protected(name),
                "movers": label_movers(releases.is_protected(name)),
                "reviewed": settings.REVIEW.requires_review(name),
            }
            for name in releases.declared_labels()
        ]
        context["reviewers"] = reviewers()
        return context
