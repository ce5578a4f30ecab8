"""Who may do what: readers read, contributors submit, editors edit, reviewers verify.

Roles are Django groups holding the three permissions below (created by migration
0006_roles); a user may also hold a permission directly. Staff and superusers keep
everything. An API token acts as its user, with exactly that user's permissions.

    reader       anyone, signed in or not: every page, feed and API read
    contributor  + submit sources (text, files, URLs) and follow feeds; see their ingest jobs
    editor       + edit and lock facts (milestones; in the admin, when also staff)
    reviewer     + verify machine-read facts and settle conflicts (the review queue)

Pages call the plain `user_can_*` functions; the API uses `RolePermission`, the default
permission class in settings, which looks up the rule for the model a view serves.
"""

from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from rest_framework import permissions

SUBMIT_SOURCE = "tracker.submit_source"
EDIT_FACTS = "tracker.edit_facts"
REVIEW_FACTS = "tracker.review_facts"

# Role name -> (group name, the permissions it holds). Each role includes the one before.
ROLES = {
    "contributor": ("Contributors", (SUBMIT_SOURCE,)),
    "editor": ("Editors", (SUBMIT_SOURCE, EDIT_FACTS)),
    "reviewer": ("Reviewers", (SUBMIT_SOURCE, EDIT_FACTS, REVIEW_FACTS)),
}

# What each permission lets a person do, in the words `manage.py api_token` prints.
ABILITIES = {
    SUBMIT_SOURCE: "submit sources (text, files, URLs), follow feeds and see their ingest jobs",
    EDIT_FACTS: "edit and lock facts (milestones)",
    REVIEW_FACTS: "verify machine-read facts and settle conflicts",
}


def user_has(user, permission: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.is_superuser or user.has_perm(permission)


def user_can_submit(user) -> bool:
    return user_has(user, SUBMIT_SOURCE)


def user_can_edit(user) -> bool:
    return user_has(user, EDIT_FACTS)


def user_can_review(user) -> bool:
    return user_has(user, REVIEW_FACTS)


def user_is_staff(user) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.is_superuser)
    )


def user_abilities(user) -> list[str]:
    """What the user may do, one line each, readers' rights first."""
    lines = ["read everything public (pages, feeds, API reads)"]
    if user.is_staff or user.is_superuser:
        return lines + ["everything: staff" + (" and superuser" if user.is_superuser else "")]
    lines += [text for permission, text in ABILITIES.items() if user_has(user, permission)]
    return lines


def ingest_jobs_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Staff watch every job (as on the HTML job pages); a contributor the ones they sent."""
    if user_is_staff(user):
        return queryset
    if user_can_submit(user):
        return queryset.filter(created_by=user)
    return queryset.none()


# ---------------------------------------------------------------------------------------
# The API: one rule per model a view serves (by label: DRF imports this module while it
# defines APIView, before models can be). Reads are public except ingest jobs; writes need
# the model's permission; a model not listed is written by staff only.

WRITE_PERMISSION = {
    "tracker.milestone": EDIT_FACTS,
    "tracker.source": SUBMIT_SOURCE,
    "tracker.feed": SUBMIT_SOURCE,
}
READ_PERMISSION = {
    # Jobs show upload names, URLs and errors: the HTML job pages' rule.
    "tracker.ingestjob": SUBMIT_SOURCE,
}
ROLE_OF = {SUBMIT_SOURCE: "contributor", EDIT_FACTS: "editor", REVIEW_FACTS: "reviewer"}


def view_model(view):
    queryset = getattr(view, "queryset", None)
    if queryset is None and hasattr(view, "get_queryset"):
        queryset = view.get_queryset()
    return getattr(queryset, "model", None)


def refusal(permission: str | None, doing: str) -> str:
    if permission is None:
        return f"{doing.capitalize()} is for staff only."
    role = ROLE_OF[permission]
    return f"{doing.capitalize()} needs the {role} role (permission {permission})."


class RolePermission(permissions.BasePermission):
    """The default permission class: the rule for the view's model (see WRITE_PERMISSION)."""

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        user = request.user
        model = view_model(view)
        label = model._meta.label_lower if model is not None else ""
        name = model._meta.verbose_name_plural if model is not None else "this"
        if request.method in permissions.SAFE_METHODS:
            needed = READ_PERMISSION.get(label)
            if needed is None or user_has(user, needed):
                return True
            self.message = refusal(needed, f"reading {name}")
            return False
        needed = WRITE_PERMISSION.get(label)
        allowed = user_is_staff(user) if needed is None else user_has(user, needed)
        if not allowed:
            self.message = refusal(needed, f"writing {name}")
        return allowed


class CanSubmitSources(permissions.BasePermission):
    message = refusal(SUBMIT_SOURCE, "submitting sources")

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or user_can_submit(request.user)


class CanEditFacts(permissions.BasePermission):
    message = refusal(EDIT_FACTS, "editing facts")

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or user_can_edit(request.user)


class CanReviewFacts(permissions.BasePermission):
    """For the review queue: reading it and acting on it both need the reviewer role."""

    message = refusal(REVIEW_FACTS, "reviewing facts")

    def has_permission(self, request, view) -> bool:
        return user_can_review(request.user)


def anonymous_may(view, method: str) -> bool:
    """Whether a request with no credentials passes the view's permissions (for the schema)."""
    request = SimpleNamespace(user=AnonymousUser(), method=method)
    return all(permission.has_permission(request, view) for permission in view.get_permissions())
