"""Request bodies: JSON only, and no larger than DATA_UPLOAD_MAX_MEMORY_SIZE.

DRF imports this module while it defines APIView (its classes are defaults in settings), so
it imports nothing of tracker.api.views.
"""

import io

from django.conf import settings
from rest_framework import exceptions, parsers, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(parsers.JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE; Django only checks form bodies."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise exceptions.ParseError("Invalid Content-Length.") from None
            if length > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            data = stream.read(limit + 1) if stream is not None else b""
            if len(data) > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
            stream = io.BytesIO(data)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # "[" * 100000 is a few hundred kilobytes that would take the parser down.
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
