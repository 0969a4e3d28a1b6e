"""Who may do what through the API: Django model permissions, rollback separate."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Actions whose rule needs more than the user (the label, the proposal) or is not a
# model permission alone: the view asks config_versions.releases or .review.
VIEW_DECIDES = frozenset({"promote", "propose", "review", "withdraw"})


class BotConfigPermission(BasePermission):
    """Read needs ``view_botconfig``, create ``add_botconfig``, a new version
    ``change_botconfig`` and a rollback ``rollback_botconfig``; moving a label
    (``promote``) is left to ``releases.move_refusal``, asked by the view, and so are
    proposing, reviewing and withdrawing proposals to ``config_versions.review``
    (applying one writes a version: ``change``).

    A view names the action it performs in ``permission_action`` when the HTTP method
    alone does not say (a rollback is a POST, like a create).
    """

    method_actions = {
        "GET": "view",
        "HEAD": "view",
        "OPTIONS": "view",
        "POST": "add",
        "PUT": "change",
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "permission_action", None) or self.method_actions.get(
            request.method or ""
        )
        if action is None:
            # Methods we do not serve (PATCH, DELETE) get their 405 from the view.
            return True
        if action in VIEW_DECIDES:
            # Moving a label: which user may move which label is releases.move_refusal's
            # rule (it needs the label: a protected one asks for more); proposing,
            # reviewing and withdrawing are config_versions.review's. The view asks the
            # rule and answers its refusal 403, with its reason.
            return True
        allowed = bool(user.has_perm(f"config_versions.{action}_botconfig"))
        if action == "rollback":
            # As in the admin: a rollback answers with a config, so seeing configs is
            # part of being allowed to roll back.
            allowed = allowed and (
                user.has_perm("config_versions.view_botconfig")
                or user.has_perm("config_versions.change_botconfig")
            )
        return allowed

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return self.has_permission(request, view)
