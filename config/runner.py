"""The in-process task runner of the embedded default (no REDIS_URL, no servers).

Tasks never run in the web request that queues them: `apply_async` hands them to a small pool
of threads in this process (TRACKER_IN_PROCESS_WORKERS, default 2), which run them as a
worker would, under the same limits:

- the soft time limit (CELERY_TASK_SOFT_TIME_LIMIT) raises SoftTimeLimitExceeded inside the
  task's thread, which fails the job with the same message a worker gives;
- a thread cannot be killed, so at the hard limit (CELERY_TASK_TIME_LIMIT) a task still
  running is given up: its ingest job is failed, and the thread's slot is replaced so the
  next tasks do not wait behind it. What keeps a task from running that long in the first
  place are the limits inside it: one wall-clock deadline per fetch, HTML bounded in size
  and markup, feed polls capped.

Each thread closes its database connections after every task. Queued tasks are lost if the
process exits before running them; their jobs stay "queued" in the database, and the next
`manage.py ingest` or a worker (with REDIS_URL) picks them up via the sweep.
"""

import ctypes
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from celery.exceptions import SoftTimeLimitExceeded

log = logging.getLogger(__name__)

lock = threading.Lock()
pool: ThreadPoolExecutor | None = None


def executor() -> ThreadPoolExecutor:
    global pool
    from django.conf import settings

    with lock:
        if pool is None:
            pool = ThreadPoolExecutor(
                max_workers=settings.TRACKER_IN_PROCESS_WORKERS, thread_name_prefix="task"
            )
        return pool


def submit(task, args: tuple | list | None, kwargs: dict | None, task_id: str | None) -> Future:
    return executor().submit(run, task, list(args or []), dict(kwargs or {}), task_id)


def raise_in(thread_id: int, exception: type[BaseException]) -> None:
    # Delivered at the thread's next Python instruction (not inside a C call).
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception)
    )


def run(task, args: list, kwargs: dict, task_id: str | None) -> None:
    from django.conf import settings
    from django.db import connections

    thread_id = threading.get_ident()
    done = threading.Event()

    def soft_limit() -> None:
        if not done.is_set():
            log.warning("task %s %s: soft time limit", task.name, task_id)
            raise_in(thread_id, SoftTimeLimitExceeded)

    def hard_limit() -> None:
        if done.is_set():
            return
        log.error("task %s %s: hard time limit, given up", task.name, task_id)
        try:
            task_given_up(task, args)
        finally:
            connections.close_all()
        # A fresh pool for the tasks still to come; the stuck thread ends when it can.
        global pool
        with lock:
            stuck, pool = pool, None
        if stuck is not None:
            stuck.shutdown(wait=False)

    timers = [
        threading.Timer(settings.CELERY_TASK_SOFT_TIME_LIMIT, soft_limit),
        threading.Timer(settings.CELERY_TASK_TIME_LIMIT, hard_limit),
    ]
    for timer in timers:
        timer.daemon = True
        timer.start()
    try:
        # apply() runs the task here as a worker would (retries are not slept on).
        task.apply(args=args, kwargs=kwargs, task_id=task_id)
    except SoftTimeLimitExceeded:
        pass  # arrived after the task returned: nothing left to stop
    finally:
        done.set()
        for timer in timers:
            timer.cancel()
        connections.close_all()


def task_given_up(task, args: list) -> None:
    from django.conf import settings

    from tracker.models import IngestJob
    from tracker.services.ingest import UNFINISHED_STATES

    if task.name == "tracker.tasks.source_ingest_task" and args:
        IngestJob.objects.filter(pk=args[0], state__in=UNFINISHED_STATES).update(
            state=IngestJob.State.FAILED,
            error=f"took longer than the time limit ({settings.CELERY_TASK_TIME_LIMIT} s)",
        )


def wait_all() -> None:
    """Run every task queued so far to its end (commands call this before they exit)."""
    global pool
    with lock:
        current, pool = pool, None
    if current is not None:
        current.shutdown(wait=True)
