"""Request rates, counted in the default cache (Redis when REDIS_URL is set).

DRF imports this module while it defines APIView (the throttles are defaults in settings),
so it imports nothing of tracker.api.views.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.settings import api_settings

log = logging.getLogger(__name__)

# When the cache cannot be reached, each process counts on its own for a while (limits per
# process rather than per site) instead of answering 500 to every read and write (attack 6
# of issue 14).

CACHE_DOWN_SECONDS = 30
local_counts = LocMemCache("tracker-throttle-fallback", {})
cache_down_until = 0.0


class RateFromSettingsMixin:
    # Read the rate on each request rather than at import, so settings overrides apply.
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        global cache_down_until
        if time.monotonic() < cache_down_until:
            self.cache = local_counts
            return super().allow_request(request, view)
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            # Not retried per request: one timeout every CACHE_DOWN_SECONDS, not every time.
            log.warning("throttle cache unavailable, counting in-process: %s", exc)
            cache_down_until = time.monotonic() + CACHE_DOWN_SECONDS
            self.cache = local_counts
            return super().allow_request(request, view)


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


class SubmissionThrottle(RateFromSettingsMixin, throttling.SimpleRateThrottle):
    """Sources and feeds submitted per user (each one costs a fetch and a parse), on top of
    the write rate. Staff are not counted: they bulk-load with `manage.py ingest`."""

    scope = "submit"
    submitting = ("tracker.source", "tracker.feed")

    def get_cache_key(self, request, view):
        if request.method != "POST" or not request.user or not request.user.is_authenticated:
            return None
        if request.user.is_staff or request.user.is_superuser:
            return None
        model = getattr(getattr(view, "queryset", None), "model", None)
        if model is None and hasattr(view, "get_queryset"):
            model = view.get_queryset().model
        if model is None or model._meta.label_lower not in self.submitting:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
