import os
import threading
import time
import uuid

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class TrackerTask(Task):
    """Sends tasks to the broker, or, in the embedded default, to the in-process runner
    (config/runner.py) so that no task runs inside the web request that queued it."""

    def apply_async(self, args=None, kwargs=None, task_id=None, **options):
        from django.conf import settings

        if settings.TRACKER_TASKS_IN_PROCESS and not self.app.conf.task_always_eager:
            from celery.result import AsyncResult

            from config import runner

            task_id = task_id or str(uuid.uuid4())
            runner.submit(self, args, kwargs, task_id)
            return AsyncResult(task_id, app=self.app)
        return super().apply_async(args=args, kwargs=kwargs, task_id=task_id, **options)


app = Celery("tracker", task_cls=TrackerTask)
# Every Celery setting lives in config/settings.py under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(task=None, **kwargs) -> None:
    # Between tasks as between requests: drop a connection that failed or outlived
    # CONN_MAX_AGE, keep a good one. Never inside an eager task's (a test's) transaction.
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_ready.connect
def worker_heartbeat_start(sender=None, **kwargs) -> None:
    # /readyz counts the workers whose key is fresh; each writes it every 15 s from its main
    # process, so a worker killed whole disappears from the count within a minute.
    from django.conf import settings

    from config.health import worker_heartbeat_write

    if not settings.REDIS_URL:
        return
    hostname = getattr(sender, "hostname", "worker")

    def beat() -> None:
        while True:
            try:
                worker_heartbeat_write(hostname)
            except Exception:  # the broker away for a moment: /readyz says so meanwhile
                pass
            time.sleep(15)

    threading.Thread(target=beat, name="worker-heartbeat", daemon=True).start()
