"""One shape for every 4xx answer, in the API and for the site-wide 404/400 handlers:

{"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"…": ["…"]}}}
"""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from tracker.api.parsers import PayloadTooLarge


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    body = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = first_message(value)
            if inner:
                return inner if key == "non_field_errors" else f"{key}: {inner}"
    elif isinstance(detail, list):
        for value in detail:
            inner = first_message(value)
            if inner:
                return inner
    elif detail:
        return str(detail)
    return ""


def api_exception_handler(exc, context):
    """DRF's handler (status, headers such as Retry-After), reshaped into our error body."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        codes = exc.get_codes()
        code = "invalid"
        if isinstance(codes, dict) and any(
            "unknown_field" in (v if isinstance(v, list) else [v]) for v in codes.values()
        ):
            code = "unknown_field"
        response.data = error_body(
            response.status_code, code, first_message(detail) or "Invalid input.", detail
        )
    else:
        detail = getattr(exc, "detail", None)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if isinstance(exc, Http404):
            code = "not_found"
        response.data = error_body(
            response.status_code,
            code if isinstance(code, str) else "error",
            first_message(detail) or str(exc) or "Error.",
        )
    return response


class EditConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record changed since you read it."
    default_code = "edit_conflict"


def api_not_found(request, exception=None):
    """handler404: the API's error shape under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def api_bad_request(request, exception=None):
    """handler400 (oversized or malformed requests Django refuses before any view)."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            body = error_body(413, "payload_too_large", PayloadTooLarge.default_detail)
            return JsonResponse(body, status=413)
        return JsonResponse(error_body(400, "bad_request", "Bad request."), status=400)
    return defaults.bad_request(request, exception)
