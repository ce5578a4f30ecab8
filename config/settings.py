"""One settings module, read from the environment (see .env.example).

Bad values fail loudly with ImproperlyConfigured instead of falling back silently.
"""

import hashlib
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRACKER_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def dev_secret_key() -> str:
    # Development only (DEBUG): a key derived from the checkout's path, so sessions survive
    # restarts without settings writing a file at import. Production must set SECRET_KEY.
    return hashlib.sha256(f"development key for {BASE_DIR}".encode()).hexdigest()


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = dev_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "tracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.logs.RequestLogMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Embedded default: a SQLite file under var/ in WAL mode, so the dashboard can read while
# an in-process task writes. Production points DATABASE_URL at PostgreSQL. The directory is
# made when the app starts (TrackerConfig.ready), not here: importing settings writes nothing.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The site's date words everywhere Django formats a date itself (the admin above all):
# "15 September 2024", "15 September 2024, 14:05" (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

# A person's note on an edit is a sentence, not a 100-character label (tracker/history.py).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = DEBUG

# Request bodies: a pasted article is at most a few MB; refuse more before it reaches a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 6 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Security: secure by default when DEBUG is off (manage.py check --deploy stays quiet).
# X-Forwarded-Proto says whether the client used HTTPS; trusted only when a proxy that sets
# it (and strips a client's own) stands in front, else any client could claim HTTPS.
TRACKER_BEHIND_PROXY = env_bool("TRACKER_BEHIND_PROXY", False)
if TRACKER_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: scripts, styles and images only from our own origin, no inline
# scripts or style attributes (data reaches scripts through json_script). Chart.js sizes
# its canvas through the CSSOM, which this allows. The admin runs under it too. The
# Swagger UI page loads the sidecar's bundle, which injects inline styles: it is excluded.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Celery. Without REDIS_URL tasks run in-process, so the embedded default needs no server.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} is not a redis:// URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker, tasks go to the in-process runner (config/runner.py): threads in this
# process, under the same time limits, never the web request itself.
TRACKER_TASKS_IN_PROCESS = not REDIS_URL
TRACKER_IN_PROCESS_WORKERS = env_int("TRACKER_IN_PROCESS_WORKERS", 2)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 150)
# Redis hands an unacknowledged task to another worker after the visibility timeout: just
# longer than the hard time limit, so a task still legitimately running is never handed out
# twice. A worker's death is noticed sooner, by the job's heartbeat (TRACKER_JOB_*). A retry
# waiting out a backoff longer than this may be delivered twice: the claim in
# ingest_job_run runs it once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 30),
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_DEFAULT_QUEUE = "tracker"
# Celery closes the database connection after every task unless told to reuse it, and
# reconnecting costs more than a whole ingest. config/celery.py closes only unusable or
# old connections instead, as Django does between requests (CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_BEAT_SCHEDULE = {
    "ingest-jobs-requeue-stale-every-15-seconds": {
        "task": "tracker.tasks.ingest_jobs_requeue_stale_task",
        "schedule": 15.0,
    },
    # Each feed has its own interval; this only looks for the feeds that are due.
    "feeds-poll-due-every-minute": {
        "task": "tracker.tasks.feeds_poll_due_task",
        "schedule": 60.0,
    },
    # Time-based alerts (deadline near, passed): reads only the alarms that are due.
    "alarms-sweep-every-minute": {
        "task": "tracker.tasks.alarms_sweep_task",
        "schedule": 60.0,
    },
    # Deliveries whose task the broker lost (outage, wiped, worker killed) are sent again.
    "deliveries-requeue-due-every-minute": {
        "task": "tracker.tasks.deliveries_requeue_due_task",
        "schedule": 60.0,
    },
    "alert-digests-send-daily-at-0700-utc": {
        "task": "tracker.tasks.digests_send_task",
        "schedule": crontab(hour=7, minute=0),
    },
}

# --- Cache: throttling counters. On Redis when REDIS_URL is set, so every gunicorn worker
# counts against the same limit; in process memory otherwise.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tracker",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as "120/minute"; "off" disables the throttle."""
    raw = os.environ.get(name, "").strip() or default
    if raw.lower() == "off":
        return None
    count, _, period = raw.partition("/")
    if not count.isdigit() or period[:1] not in {"s", "m", "h", "d"}:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate like 120/minute (or off)")
    return raw


# --- REST framework: API-wide choices declared once.
REST_FRAMEWORK = {
    # Writes by role, not by being signed in (tracker/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["tracker.permissions.RolePermission"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "tracker.api.schema.ApiSchema",
    "DEFAULT_FILTER_BACKENDS": ["tracker.filters.FilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["tracker.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tracker.api.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "tracker.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "tracker.api.throttles.AnonReadThrottle",
        "tracker.api.throttles.WriteThrottle",
        "tracker.api.throttles.SubmissionThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon_read": env_rate("API_THROTTLE_ANON_READ", "300/minute"),
        "write": env_rate("API_THROTTLE_WRITE", "60/minute"),
        "submit": env_rate("API_THROTTLE_SUBMIT", "200/hour"),
    },
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Troop-withdrawal tracker API",
    "DESCRIPTION": "Military withdrawals, their deadlines, milestones and their evidence.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    # Operations in the order the router registers them: withdrawals first, not alphabetical.
    "SORT_OPERATIONS": False,
    # Every date field carries the same day/month/year precision choices: one enum.
    "ENUM_NAME_OVERRIDES": {
        "PrecisionEnum": "tracker.models.Precision",
        "QualifierEnum": "tracker.models.Qualifier",
        "WithdrawalStatusEnum": "tracker.status.Status",
        "WithdrawalSectionEnum": "tracker.status.SECTION_CHOICES",
        "PartyKindEnum": "tracker.api.serializers.PartyKind",
        "MilestoneKindEnum": "tracker.api.serializers.MilestoneKind",
        "MilestoneStatusEnum": "tracker.api.serializers.MilestoneState",
        "IngestJobKindEnum": "tracker.api.serializers.IngestJobKind",
        "IngestJobStateEnum": "tracker.api.serializers.IngestJobState",
        "ConflictStateEnum": "tracker.api.serializers.ConflictState",
    },
}

# One JSON line per record (config/logs.py); LOG_FORMAT=text for plain lines.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own line per request would repeat ours (config.logs.RequestLogMiddleware).
    "loggers": {"django.server": {"level": "WARNING"}},
}
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Error reporting: on only when SENTRY_DSN is set, with the Django and Celery integrations.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=0.0,
        send_default_pii=False,
    )

# Fetching user-supplied URLs: internal addresses are refused unless explicitly allowed.
TRACKER_FETCH_ALLOW_PRIVATE = env_bool("TRACKER_FETCH_ALLOW_PRIVATE", False)
# Fetch limits (seconds, bytes). The total timeout stays below the task's soft time limit.
TRACKER_FETCH_CONNECT_TIMEOUT = env_int("TRACKER_FETCH_CONNECT_TIMEOUT", 5)
TRACKER_FETCH_READ_TIMEOUT = env_int("TRACKER_FETCH_READ_TIMEOUT", 15)
TRACKER_FETCH_TOTAL_TIMEOUT = env_int("TRACKER_FETCH_TOTAL_TIMEOUT", 60)
TRACKER_FETCH_MAX_REDIRECTS = 5
TRACKER_FETCH_MAX_HTML_BYTES = 5 * 1024 * 1024
TRACKER_FETCH_MAX_FEED_BYTES = 2 * 1024 * 1024
TRACKER_FETCH_USER_AGENT = "troop-withdrawal-tracker/1.0"
# Article extraction from HTML grows faster than linearly with the markup; heavier pages are
# read by a linear scan of their visible text instead (tracker/fetching.py). A long news page
# has 2,000-5,000 elements; 8,000 plain paragraphs take about 5 s to extract.
TRACKER_HTML_MAX_ELEMENTS = env_int("TRACKER_HTML_MAX_ELEMENTS", 8000)
TRACKER_HTML_MAX_ATTRIBUTES = env_int("TRACKER_HTML_MAX_ATTRIBUTES", 20000)
# Network errors retry after base * 2**(attempt-1) seconds (with jitter), at most max seconds.
# The max stays well below the visibility timeout and the stale-job sweep's age.
TRACKER_RETRY_BACKOFF_BASE = env_int("TRACKER_RETRY_BACKOFF_BASE", 20)
TRACKER_RETRY_BACKOFF_MAX = env_int("TRACKER_RETRY_BACKOFF_MAX", 120)
# A running job's worker writes its heartbeat this often; a job whose heartbeat is older than
# TRACKER_JOB_STALE_SECONDS lost its worker and the sweep (every 15 s) runs it again, so a
# killed worker's job runs again within about 45 s. A queued job whose task was lost with the
# broker is sent again once it has waited longer than any backoff plus this margin.
TRACKER_JOB_HEARTBEAT_SECONDS = env_int("TRACKER_JOB_HEARTBEAT_SECONDS", 5)
TRACKER_JOB_STALE_SECONDS = env_int("TRACKER_JOB_STALE_SECONDS", 30)
# One poll queues at most this many new feed entries (the newest); the rest come a minute
# later, batch by batch, so a feed of 15,000 items is never one giant transaction.
TRACKER_FEED_MAX_ENTRIES_PER_POLL = env_int("TRACKER_FEED_MAX_ENTRIES_PER_POLL", 100)
# A withdrawal is "due soon" when its deadline is this many days away or fewer.
TRACKER_DUE_SOON_DAYS = env_int("TRACKER_DUE_SOON_DAYS", 30)

# --- Accounts and alerts (docs/alerts.md).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracker:alerts"
LOGOUT_REDIRECT_URL = "tracker:dashboard"
# Links in emails (unsubscribe, the withdrawal, password reset) start with this.
TRACKER_SITE_URL = os.environ.get("TRACKER_SITE_URL", "http://127.0.0.1:8000")
# Email goes through Django's backend: SMTP at EMAIL_HOST when it is set (sent once, see
# tracker/mail.py), otherwise printed to the console (the embedded default).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "") or (
    "tracker.mail.OnceSMTPBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tracker@localhost")
# The right-hand side of Message-IDs.
TRACKER_MAIL_DOMAIN = DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
# A delivery is tried this many times (backoff as for fetches: TRACKER_RETRY_BACKOFF_*).
TRACKER_ALERT_MAX_ATTEMPTS = env_int("TRACKER_ALERT_MAX_ATTEMPTS", 8)
# A channel that fails this many sends in a row is paused and its owner told.
TRACKER_ALERT_PAUSE_AFTER = env_int("TRACKER_ALERT_PAUSE_AFTER", 10)
# A delivery "sending" for longer than this belongs to a dead worker and is sent again.
TRACKER_ALERT_LEASE_SECONDS = env_int("TRACKER_ALERT_LEASE_SECONDS", 120)
# Webhook connect and read timeouts (seconds).
TRACKER_WEBHOOK_TIMEOUT = env_int("TRACKER_WEBHOOK_TIMEOUT", 5)
# Certificate authorities for webhook HTTPS (a PEM file); default: the bundled public CAs.
TRACKER_CA_BUNDLE = os.environ.get("TRACKER_CA_BUNDLE", "")
