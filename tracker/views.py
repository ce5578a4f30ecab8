"""Pages: parse the request, ask the models, render."""

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tracker.models import Evidence, Milestone, Withdrawal


def withdrawal_rows(withdrawals, now) -> list[dict]:
    rows = []
    for withdrawal in withdrawals:
        status = withdrawal.get_status(now=now)
        countdown = withdrawal.get_countdown(now=now)
        rows.append(
            {
                "withdrawal": withdrawal,
                "status": status,
                "countdown": countdown,
                "deadline_iso": withdrawal.deadline.isoformat() if withdrawal.deadline else "",
            }
        )
    return rows


def timeline_data(rows) -> list[dict]:
    return [
        {
            "id": row["withdrawal"].pk,
            "label": str(row["withdrawal"]),
            "start": (row["withdrawal"].announced_on or row["withdrawal"].deadline).isoformat()
            if (row["withdrawal"].announced_on or row["withdrawal"].deadline)
            else None,
            "end": (row["withdrawal"].completed_on or row["withdrawal"].deadline).isoformat()
            if (row["withdrawal"].completed_on or row["withdrawal"].deadline)
            else None,
            "status": row["status"].value,
            "status_label": row["status"].label,
            "deadline": row["withdrawal"].deadline_display,
            "url": f"/withdrawals/{row['withdrawal'].pk}/",
        }
        for row in rows
    ]


def dashboard(request):
    now = timezone.now()
    withdrawals = Withdrawal.objects.select_related("party", "host").annotate(
        source_count=Count("evidence__source", distinct=True)
    )
    rows = withdrawal_rows(withdrawals, now)
    return render(
        request,
        "tracker/dashboard.html",
        {"rows": rows, "now": now, "timeline": timeline_data(rows)},
    )


def withdrawal_detail(request, pk: int):
    now = timezone.now()
    withdrawal = get_object_or_404(
        Withdrawal.objects.select_related("party", "host").prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("date", "id")),
            "deadline_revisions__source",
            Prefetch(
                "evidence",
                queryset=Evidence.objects.select_related("source", "milestone").order_by(
                    "source_id", "start"
                ),
            ),
            "conflicts__source",
        ),
        pk=pk,
    )
    evidence_by_source: dict = {}
    for evidence in withdrawal.evidence.all():
        before, quote, after = evidence.source.sentence_context(evidence.start, evidence.end)
        evidence_by_source.setdefault(evidence.source, []).append(
            {"evidence": evidence, "before": before, "quote": quote, "after": after}
        )
    return render(
        request,
        "tracker/withdrawal_detail.html",
        {
            "withdrawal": withdrawal,
            "status": withdrawal.get_status(now=now),
            "countdown": withdrawal.get_countdown(now=now),
            "evidence_by_source": evidence_by_source,
            "now": now,
        },
    )
