"""The OpenAPI schema: every operation documents the error answers it can give."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from tracker import permissions
from tracker.api.errors import error_body
from tracker.api.serializers import ErrorSerializer

ERROR_EXAMPLES = {
    "400": (
        "Invalid input (a query parameter or a body field), with messages per field.",
        error_body(
            400,
            "invalid",
            "deadline_after: Enter a valid date.",
            {"deadline_after": ["Enter a valid date."]},
        ),
    ),
    "401": (
        "Missing or wrong token (writes need `Authorization: Token <key>`).",
        error_body(401, "not_authenticated", "Authentication credentials were not provided."),
    ),
    "403": (
        "Not allowed (for example a session write without its CSRF token).",
        error_body(403, "permission_denied", "You do not have permission to perform this action."),
    ),
    "404": (
        "No such object, or a page past the end.",
        error_body(404, "not_found", "No Withdrawal matches the given query."),
    ),
    "406": (
        "The Accept header asks for a format this endpoint does not give.",
        error_body(406, "not_acceptable", "Could not satisfy the request Accept header."),
    ),
    "409": (
        "The record changed since you read it (the `updated_at` you sent is not its own).",
        error_body(
            409,
            "edit_conflict",
            "This milestone was changed at 2024-08-05 10:00:00 UTC, after you read it (by a "
            "merge or another person). Your edit was not saved: reload the milestone to see "
            "its current values, then make your change again.",
        ),
    ),
    "413": (
        "The body is larger than the server accepts.",
        error_body(413, "payload_too_large", "The request body is larger than 6291456 bytes."),
    ),
    "415": (
        "The body is not JSON.",
        error_body(
            415, "unsupported_media_type", 'Unsupported media type "text/plain" in request.'
        ),
    ),
    "429": (
        "Too many requests; retry after the number of seconds in Retry-After.",
        error_body(429, "throttled", "Request was throttled. Expected available in 42 seconds."),
    ),
}


class ApiSchema(AutoSchema):
    def error_statuses(self) -> list[str]:
        # 404 everywhere: an unknown ?format= is one, besides unknown ids and pages.
        codes = ["401", "404", "406", "429"]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["400", "403", "413", "415"]
        if self._is_list_view() and self.method == "GET":
            codes += ["400", "404"]
        if "{" in self.path:
            codes += ["404"]
        if self.method in ("PUT", "PATCH"):
            codes += ["409"]
        if not permissions.anonymous_may(self.view, self.method):
            codes += ["403"]
        return sorted(set(codes))

    def get_auth(self):
        # Reads are public unless tracker.permissions says otherwise (ingest jobs).
        auths = super().get_auth()
        if {} not in auths and permissions.anonymous_may(self.view, self.method):
            auths.append({})
        return auths

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_statuses():
            if code in responses:
                continue
            description, example = ERROR_EXAMPLES[code]
            responses[code] = self._get_response_for_code(
                OpenApiResponse(
                    ErrorSerializer,
                    description=description,
                    examples=[OpenApiExample(f"error {code}", value=example)],
                ),
                code,
                ["application/json"],
                direction,
            )
        return responses
