"""The shared test world: a staff user, a reader, the Niger withdrawal with its milestones,
and the real servers (PostgreSQL, Redis) that some tests need.

Outside CI a test that needs a missing server skips with a loud reason; with CI=true it
fails instead, so nothing skips in CI.
"""

import datetime as dt
import os
import socket
import warnings
from urllib.parse import urlparse

import pytest
from django.conf import settings

from config.celery import app as celery_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def require_server(name: str, url: str) -> None:
    """Skip (outside CI) or fail (in CI) when the server behind url does not answer."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port
    reason = ""
    if not url:
        reason = f"{name} is not configured (set its URL in the environment)"
    else:
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as exc:
            reason = f"{name} at {host}:{port} is not reachable: {exc}"
    if reason:
        if IN_CI:
            pytest.fail(f"CI needs {name}: {reason}")
        message = f"SKIPPING: {reason}"
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    # Unset REDIS_URL means tasks run in-process: there is no broker to test against.
    url = os.environ.get("REDIS_URL", "")
    require_server("Redis", url)
    return url


@pytest.fixture
def postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        require_server("PostgreSQL", "")


@pytest.fixture(autouse=True)
def tasks_run_in_process(request):
    # Most tests exercise the services, not the broker: run tasks inline unless a test
    # says it wants the real worker.
    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="editor", password="a-long-test-password", is_staff=True, is_superuser=True
    )


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user(username="reader", password="a-long-password")


@pytest.fixture
def niger_withdrawal(db):
    """The seed case, built by hand: the US leaving Niger by 15 September 2024."""
    from tracker.models import DeadlineRevision, Milestone, Party, Precision, Withdrawal

    us = Party.objects.create(code="US", name="United States", aliases=["American", "U.S."])
    niger = Party.objects.create(code="NE", name="Niger", aliases=["Nigerien"])
    withdrawal = Withdrawal.objects.create(
        party=us,
        host=niger,
        announced_on=dt.date(2024, 5, 20),
        deadline=dt.date(2024, 9, 15),
        deadline_precision=Precision.DAY,
        personnel=1000,
        personnel_qualifier="approximately",
    )
    DeadlineRevision.objects.create(
        withdrawal=withdrawal, deadline=dt.date(2024, 9, 15), stated_on=dt.date(2024, 5, 20)
    )
    Milestone.objects.create(
        withdrawal=withdrawal,
        kind=Milestone.Kind.ANNOUNCEMENT,
        title="Agreement to withdraw announced",
        date=dt.date(2024, 5, 20),
        status=Milestone.State.DONE,
    )
    Milestone.objects.create(
        withdrawal=withdrawal,
        kind=Milestone.Kind.BASE_HANDOVER,
        title="Air Base 101 handed over",
        date=dt.date(2024, 7, 7),
        status=Milestone.State.PLANNED,
    )
    return withdrawal


@pytest.fixture
def web():
    """A local web server on 127.0.0.1 (see tests/localweb.py); the internet is never used."""
    from localweb import LocalWeb

    server = LocalWeb()
    yield server
    server.close()
