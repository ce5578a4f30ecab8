"""Writes that touch several models: sources, ingest jobs, feeds, and merging facts.

Every function is keyword-only, typed and atomic where it writes. Views, the API, tasks and
management commands call these as `services.<entity>_<action>`; none of them holds a
business rule of its own. The package splits one long module in two:
`ingest` (sources, jobs, feeds) and `merging` (facts into records, corroboration).

Only the entry points that views, the API, tasks, the admin and commands call are exported
here; the steps they are made of stay in their module.
"""

from tracker.services import alerts, ingest, merging
from tracker.services.alerts import (
    AlertError,
    DeliveryRetry,
    alarms_sweep,
    channel_send_test,
    channel_unsubscribe,
    channel_update,
    channel_webhook_create,
    deliveries_requeue_due,
    delivery_send,
    digests_send,
    record_verified_on_commit,
    watch_arm,
    watch_create,
    watch_delete,
    watch_update,
)
from tracker.services.ingest import (
    UPLOAD_SUFFIXES,
    IngestError,
    IngestRetry,
    feed_add,
    feed_poll,
    feeds_poll_due,
    feeds_poll_now,
    ingest_job_run,
    ingest_jobs_requeue_stale,
    ingest_jobs_retry,
    published_on_check,
    source_submit_text,
    source_submit_upload,
    source_submit_url,
)
from tracker.services.merging import (
    StaleEdit,
    current_revision,
    milestone_save_by_person,
    milestones_mark_done,
    milestones_set_locked,
    record_check_fresh,
    source_merge_facts,
    withdrawal_apply_current_deadline,
    withdrawal_revise_deadline,
    withdrawal_set_locked_fields,
    withdrawals_recount,
)

__all__ = [
    "alerts",
    "ingest",
    "merging",
    "AlertError",
    "DeliveryRetry",
    "alarms_sweep",
    "channel_send_test",
    "channel_unsubscribe",
    "channel_update",
    "channel_webhook_create",
    "deliveries_requeue_due",
    "delivery_send",
    "digests_send",
    "record_verified_on_commit",
    "watch_arm",
    "watch_create",
    "watch_delete",
    "watch_update",
    "UPLOAD_SUFFIXES",
    "IngestError",
    "IngestRetry",
    "feed_add",
    "feed_poll",
    "feeds_poll_due",
    "feeds_poll_now",
    "ingest_job_run",
    "ingest_jobs_requeue_stale",
    "ingest_jobs_retry",
    "published_on_check",
    "source_submit_text",
    "source_submit_upload",
    "source_submit_url",
    "StaleEdit",
    "current_revision",
    "milestone_save_by_person",
    "record_check_fresh",
    "source_merge_facts",
    "milestones_mark_done",
    "milestones_set_locked",
    "withdrawal_set_locked_fields",
    "withdrawal_apply_current_deadline",
    "withdrawal_revise_deadline",
    "withdrawals_recount",
]
