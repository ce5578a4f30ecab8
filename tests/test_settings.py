"""Settings come from the environment and fail loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7Gq2vN9pL4mR8tY1wE6uI3oP5aS0dF7gH2jK9lZ4xC6vB1nM8qW3eR5tY0uI2oP",
    "ALLOWED_HOSTS": "tracker.example.org",
}


def test_it_passes_the_deployment_checklist_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout


def test_it_refuses_to_start_without_a_secret_key_in_production():
    result = manage("check", env={"DEBUG": "0", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_it_rejects_a_debug_value_that_is_not_a_boolean():
    result = manage("check", env={**PRODUCTION, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


# Attack 17: X-Forwarded-Proto is trusted only when a setting says a proxy sets it.
CLAIMS_HTTPS = (
    "from django.test import Client; "
    "r = Client().get('/api/schema/', HTTP_HOST='tracker.example.org', "
    "HTTP_X_FORWARDED_PROTO='https'); "
    "print(r.status_code, r.headers.get('Location', ''))"
)


def test_it_ignores_a_client_claiming_https_without_a_trusted_proxy_attack_17():
    result = manage("shell", "-c", CLAIMS_HTTPS, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    # Plain HTTP stays plain HTTP whatever the client claims: redirected to HTTPS.
    assert result.stdout.strip().splitlines()[-1].split() == [
        "301",
        "https://tracker.example.org/api/schema/",
    ]


def test_it_trusts_x_forwarded_proto_behind_a_declared_proxy():
    result = manage("shell", "-c", CLAIMS_HTTPS, env={**PRODUCTION, "TRACKER_BEHIND_PROXY": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["200"]


def test_it_binds_the_web_process_to_loopback_unless_told_otherwise():
    procfile = (ROOT / "Procfile").read_text()
    assert "--bind ${WEB_BIND:-127.0.0.1}:" in procfile
