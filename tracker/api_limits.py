"""Request limits for the API: body size and rates.

Kept apart from tracker.api because DRF imports these while it defines APIView (they are
default classes in settings), before tracker.api, which builds on APIView, can be imported.
"""

import io
from decimal import Decimal

import orjson
from django.conf import settings
from django.utils.functional import Promise
from rest_framework import exceptions, parsers, renderers, status, throttling
from rest_framework.settings import api_settings


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


# ---------------------------------------------------------------------------------------
# Throttling: counted in the default cache (Redis when REDIS_URL is set).


class RateFromSettingsMixin:
    # Read the rate on each request rather than at import, so settings overrides apply.
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonReadThrottle(RateFromSettingsMixin, throttling.SimpleRateThrottle):
    scope = "anon_read"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WriteThrottle(RateFromSettingsMixin, throttling.SimpleRateThrottle):
    scope = "write"

    def get_cache_key(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def orjson_default(value):
    if isinstance(value, Promise | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ORJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, several times faster on a page of 100 rows."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=orjson_default)
