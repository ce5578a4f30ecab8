"""Settings for benchmarks/api.py: the app's settings plus a URLconf with the bare views."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.api_urls"
