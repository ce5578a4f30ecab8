"""Probes for load balancers and orchestrators.

/healthz: the process answers (no database, no broker): restart me if this fails.
/readyz: the database answers, the broker answers, and at least one worker wrote its
heartbeat within a minute: send me traffic only if this passes. In the embedded default
(no REDIS_URL) tasks run in this process, so the broker and worker are "in-process".
"""

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

WORKER_KEY = "tracker:worker-heartbeat:"
WORKER_FRESH_SECONDS = 60


def redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def worker_heartbeat_write(hostname: str) -> None:
    """Called by each worker every few seconds (config/celery.py)."""
    redis_client().set(f"{WORKER_KEY}{hostname}", str(time.time()), ex=WORKER_FRESH_SECONDS)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    if not settings.REDIS_URL:
        checks["broker"] = checks["workers"] = "in-process"
    else:
        try:
            client = redis_client()
            client.ping()
            checks["broker"] = "ok"
            workers = sum(1 for _ in client.scan_iter(match=f"{WORKER_KEY}*", count=100))
            checks["workers"] = (
                f"{workers} alive" if workers else f"none seen in {WORKER_FRESH_SECONDS} s"
            )
        except Exception as exc:
            checks["broker"] = f"unreachable: {exc.__class__.__name__}"
            checks["workers"] = "unknown"
    ready = checks["database"] == "ok" and checks["broker"] in ("ok", "in-process")
    ready = ready and (checks["workers"] == "in-process" or checks["workers"].endswith("alive"))
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )
