"""Operations: probes for load balancers, one JSON log line per request and per job stage,
and error reporting that is off unless SENTRY_DSN is set."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.health import worker_heartbeat_write
from config.logs import JsonFormatter
from tracker import services

ROOT = Path(__file__).resolve().parent.parent
NIGER = "The United States agreed to withdraw about 1,000 troops from Niger by September 15, 2024."


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_needs_the_database_the_broker_and_a_worker_heartbeat(client, settings, redis_url):
    import redis

    settings.REDIS_URL = redis_url
    keys = redis.Redis.from_url(redis_url)
    for key in keys.scan_iter(match="tracker:worker-heartbeat:*"):
        keys.delete(key)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "workers": "none seen in 60 s",
    }
    worker_heartbeat_write("celery@test")
    try:
        response = client.get("/readyz")
        assert response.status_code == 200, response.json()
        assert response.json()["checks"]["workers"] == "1 alive"
        # The broker goes away: not ready, and says why.
        settings.REDIS_URL = "redis://127.0.0.1:18201/0"  # nothing listens (hops' range)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["broker"].startswith("unreachable")
    finally:
        keys.delete("tracker:worker-heartbeat:celery@test")


@pytest.mark.django_db
def test_readyz_in_the_embedded_default_needs_only_the_database(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "in-process"


@pytest.mark.django_db
def test_it_logs_one_json_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="tracker.requests"):
        client.get("/healthz")
    [record] = [r for r in caplog.records if r.name == "tracker.requests"]
    line = json.loads(JsonFormatter().format(record))
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert (
        line["ms"] >= 0 and line["ts"].endswith("Z") and "\n" not in JsonFormatter().format(record)
    )


@pytest.mark.django_db
def test_it_logs_one_json_line_per_job_stage_with_the_job_and_source(caplog):
    with caplog.at_level(logging.INFO, logger="tracker.services.ingest"):
        source, job = services.source_submit_text(text=NIGER, origin="pasted", enqueue=False)
        services.ingest_job_run(job_id=job.pk)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.msg == "job stage"]
    assert [line["stage"] for line in lines] == ["extracting", "merged"]
    assert {(line["job_id"], line["source_id"]) for line in lines} == {(job.pk, source.pk)}


def settings_probe(**env: str) -> str:
    code = (
        "import django, sentry_sdk; django.setup(); "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), sorted(client.integrations))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_error_reporting_is_off_without_sentry_dsn_and_on_with_it():
    env = {key: value for key, value in os.environ.items() if key != "SENTRY_DSN"}
    assert settings_probe(**env, SENTRY_DSN="").startswith("False")
    # A DSN nobody listens on (hops' port range): nothing is sent in this test.
    on = settings_probe(SENTRY_DSN="http://public@127.0.0.1:18202/1")
    assert on.startswith("True") and "'celery'" in on and "'django'" in on
