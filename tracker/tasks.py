"""Celery entry points: take ids, re-fetch, call a service. Nothing else lives here."""

from celery import shared_task

from tracker import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def source_ingest_task(job_id: int) -> None:
    services.ingest_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def ingest_jobs_requeue_stale_task() -> int:
    return services.ingest_jobs_requeue_stale()
