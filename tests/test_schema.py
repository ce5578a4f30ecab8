"""The OpenAPI schema, the self-hosted docs, and schemathesis fuzzing every operation."""

import pytest
import schemathesis
import yaml
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi import checks

from config.wsgi import application

RESOURCES = [
    "withdrawals",
    "milestones",
    "deadline-revisions",
    "sources",
    "parties",
    "countries",
    "deployments",
    "feeds",
    "ingest-jobs",
]


@pytest.fixture
def schema_doc(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.django_db
def test_it_serves_an_openapi_3_schema_of_every_resource(schema_doc):
    assert schema_doc["openapi"].startswith("3.")
    for resource in RESOURCES:
        assert f"/api/{resource}/" in schema_doc["paths"], resource
        assert any(p.startswith(f"/api/{resource}/{{") for p in schema_doc["paths"]), resource


@pytest.mark.django_db
def test_it_documents_the_error_shape_with_an_example_on_every_operation(schema_doc):
    assert "Error" in schema_doc["components"]["schemas"]
    for path, operations in schema_doc["paths"].items():
        for method, operation in operations.items():
            codes = {code for code in operation["responses"] if code.startswith("4")}
            assert {"401", "406", "429"} <= codes, (method, path)
            if method in ("post", "put", "patch"):
                assert {"400", "403", "413", "415"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            for code in codes:
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}
                assert content["examples"], (method, path, code)


@pytest.mark.django_db
def test_it_documents_every_filter_of_the_withdrawal_list(schema_doc):
    names = {p["name"] for p in schema_doc["paths"]["/api/withdrawals/"]["get"]["parameters"]}
    assert {
        "party",
        "host",
        "status",
        "deadline_after",
        "deadline_before",
        "announced_after",
        "announced_before",
        "updated_since",
        "search",
        "ordering",
        "page",
        "page_size",
    } <= names


@pytest.mark.django_db
def test_it_serves_the_docs_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "https://" not in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# ---------------------------------------------------------------------------------------
# Fuzzing: every operation, every check (no 5xx, statuses/content types/bodies as
# documented, invalid input rejected, valid input accepted). Few examples per operation so
# the run stays within a minute or two on two cores.

# Loaded at collection: building the schema reads no database.
api = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def keep_test_connection():
    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def fuzz_world(niger_withdrawal, staff_user, settings):
    # Throttling is tested elsewhere; here it would only turn fuzzing into 429s.
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon_read": None, "write": None}
    settings.REST_FRAMEWORK = rest
    return Token.objects.get_or_create(user=staff_user)[0].key


@pytest.mark.django_db
@api.parametrize()
@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_it_survives_fuzzing_of_every_operation(case, fuzz_world, keep_test_connection):
    # Submitted URLs are queued, never fetched: no task runs inside the test transaction.
    headers = {"Authorization": f"Token {fuzz_world}"}
    if case.method in ("GET", "HEAD"):
        case.call_and_validate(headers=headers)
        return
    # A schema-valid body can still name a withdrawal that does not exist or a URL that no
    # DNS name can have: writes may answer 400 to valid-looking data, never 5xx.
    response = case.call_and_validate(
        headers=headers, excluded_checks=[checks.positive_data_acceptance]
    )
    assert response.status_code < 500, response.text
