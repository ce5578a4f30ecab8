"""Backup and restore as docs/operations.md describes them: pg_dump of a filled database,
pg_restore into a fresh one, and the same number of rows in every table."""

import subprocess

import pytest
from django.db import connection
from psycopg import sql

from tracker import services
from tracker.models import Evidence, Withdrawal

ARTICLES = [
    "The United States agreed to withdraw about 1,000 troops from Niger by September 15, 2024.",
    "France agreed on Monday to withdraw its 1,000 troops from Chad by January 31, 2025.",
    "Germany agreed on Monday to withdraw its 1,200 troops from Mali by December 31, 2023.",
]


def database_url(name: str) -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def row_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_restores_into_a_fresh_database_with_every_row(postgres, tmp_path):
    import psycopg

    for text in ARTICLES:
        source, job = services.source_submit_text(text=text, origin="pasted", enqueue=False)
        services.ingest_job_run(job_id=job.pk)
    assert Withdrawal.objects.count() == 3 and Evidence.objects.exists()
    name = connection.settings_dict["NAME"]
    fresh = f"{name}_restore"
    dump = tmp_path / "tracker.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", database_url(name)],
        check=True,
        timeout=120,
    )
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(fresh)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(fresh)))
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={database_url(fresh)}",
                str(dump),
            ],
            check=True,
            timeout=120,
        )
        before, after = row_counts(database_url(name)), row_counts(database_url(fresh))
        assert after == before
        assert after["tracker_withdrawal"] == 3 and after["tracker_evidence"] > 0
        assert after["django_migrations"] > 0
    finally:
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(fresh)))
