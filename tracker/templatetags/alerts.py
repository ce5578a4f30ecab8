"""The "Watch" control on the withdrawal page and the dashboard.

An inclusion tag, so the pages' views need not know about alerts: it asks which of the
offered targets the signed-in person already watches (one query).
"""

from django import template
from django.db.models import Q

from tracker.models import Watch
from tracker.services.alerts import AlertError, view_query_normalise

register = template.Library()


@register.inclusion_tag("tracker/alerts/_watch.html", takes_context=True)
def watch_control(context, withdrawal=None, view_query=None) -> dict:
    request = context["request"]
    user = request.user
    offers = []
    if withdrawal is not None:
        offers = [
            ("withdrawal", "this withdrawal", {"withdrawal": withdrawal.pk}),
            ("host", f"host country {withdrawal.host.name}", {"party": withdrawal.host.code}),
            ("party", f"{withdrawal.party.name} everywhere", {"party": withdrawal.party.code}),
        ]
    elif view_query is not None and not user.is_authenticated:
        offers = [("view", "this view", {})]  # a sign-in link: no need to read the filter
    elif view_query is not None:
        try:
            query = view_query_normalise(view_query)
        except AlertError:
            query = None  # the page shows the filter's own error
        if query is not None:
            offers = [("view", "this view", {"query": query})]
    watched = {}
    if user.is_authenticated and offers:
        condition = Q(pk__in=[])
        for kind, _, target in offers:
            if kind == "withdrawal":
                condition |= Q(kind=kind, withdrawal_id=target["withdrawal"])
            elif kind in ("host", "party"):
                condition |= Q(kind=kind, party__code=target["party"])
            else:
                condition |= Q(kind=kind, query=target["query"])
        for watch in Watch.objects.filter(condition, user=user).select_related("party"):
            key = watch.kind if watch.kind != "view" else "view"
            watched[key] = watch
    return {
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "offers": [
            {"kind": kind, "label": label, "target": target, "watch": watched.get(kind)}
            for kind, label, target in offers
        ],
        "next": request.get_full_path(),
    }
