"""Celery entry points: take ids, re-fetch, call a service. Nothing else lives here.

acks_late with reject_on_worker_lost: a task whose worker dies is delivered again, and the
attempt count in the database (not the broker) decides when a poison job stops. So the
broker's retry count is unlimited: a database that cannot be reached is waited for, never
a reason to drop the task.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tracker import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,
)
def source_ingest_task(self, job_id: int) -> None:
    # In-process (eager) runs answer a web request: no sleeping retries there.
    eager = bool(self.request.is_eager)
    try:
        services.ingest_job_run(job_id=job_id, retry=not eager, heartbeat=not eager)
    except services.IngestRetry as exc:
        raise self.retry(countdown=exc.delay, exc=exc) from None
    except (OperationalError, InterfaceError) as exc:
        # The database is out of reach (even to record the failure): the job row still
        # says what it was; try again until the database is back.
        if eager:
            raise
        delay = services.ingest.retry_delay(min(self.request.retries + 1, 4))
        raise self.retry(countdown=delay, exc=exc) from None


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def feed_poll_task(feed_id: int) -> int:
    return services.feed_poll(feed_id=feed_id)


@shared_task(ignore_result=True)
def feeds_poll_due_task() -> int:
    return services.feeds_poll_due()


@shared_task(ignore_result=True)
def ingest_jobs_requeue_stale_task() -> int:
    return services.ingest_jobs_requeue_stale()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def delivery_send_task(self, delivery_id: int) -> None:
    # In-process (eager) runs answer a web request: a failed send waits for the sweep.
    try:
        services.delivery_send(delivery_id=delivery_id, retry=not self.request.is_eager)
    except services.DeliveryRetry as exc:
        raise self.retry(countdown=exc.delay, exc=exc, max_retries=None) from None


@shared_task(acks_late=True, ignore_result=True)
def watch_arm_task(watch_id: int) -> int:
    return services.watch_arm(watch_id=watch_id)


@shared_task(ignore_result=True)
def alarms_sweep_task() -> int:
    return services.alarms_sweep()


@shared_task(ignore_result=True)
def deliveries_requeue_due_task() -> int:
    return services.deliveries_requeue_due()


@shared_task(ignore_result=True)
def digests_send_task() -> int:
    return services.digests_send()
