"""Settings for the Callback Manager, read from environment variables only (see .env.example)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
PIN_PEPPER = env_str("PIN_PEPPER")
# The values .env.example shows: a copied example must not reach production.
PLACEHOLDERS = {
    "SECRET_KEY": "change-me-to-a-long-random-string",
    "PIN_PEPPER": "change-me-to-another-long-random-string",
}
PIN_PEPPER_MIN_LENGTH = 32
if not DEBUG:
    for _name, _value in (("SECRET_KEY", SECRET_KEY), ("PIN_PEPPER", PIN_PEPPER)):
        if not _value:
            raise ImproperlyConfigured(f"{_name} is required when DEBUG is off")
        if _value == PLACEHOLDERS[_name]:
            raise ImproperlyConfigured(
                f"{_name} is the placeholder of .env.example: set a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    if len(PIN_PEPPER) < PIN_PEPPER_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"PIN_PEPPER must be at least {PIN_PEPPER_MIN_LENGTH} characters long "
            f"(it has {len(PIN_PEPPER)}): python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'"
        )
SECRET_KEY = SECRET_KEY or "dev-only-insecure-secret-key-change-me"
PIN_PEPPER = PIN_PEPPER or "dev-only-insecure-pin-pepper"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Number of reverse proxies in front of the app; 0 = use the peer address (SPEC §2).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    # first: its templates (base.html, 403/404, registration/) win over Django's own
    "panel",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap 5's files from a Python package
    "django_tables2",
    "django_filters",
    # the product's apps, bottom layer first (docs/architecture.md)
    "tenancy",
    "exports",
    "callback",
    "notifications",
    "callerids",
    "credit",
    "api",
    "demo",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "panel.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every app keeps its templates in <app>/templates/
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.panel",
                "credit.context_processors.charging_preferences",
            ],
        },
    },
]

# SQLite by default (an embedded file); DATABASE_URL for PostgreSQL or another SQLite file.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# Health checks: a persistent connection the database dropped (restart, failover) is
# replaced at the start of the next request instead of failing it.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that needs no round trip when the connection is
    # idle and quiet (database/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "database.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite ignores SELECT ... FOR UPDATE: start every transaction IMMEDIATE so writers queue.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "database.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tenancy.auth_backend.ProfileModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "tenancy.client_address.axes_client_address"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in TIME_ZONE

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

BOOTSTRAP5 = {
    "css_url": {"url": "/static/bootstrap/css/bootstrap.min.css"},
    "javascript_url": {"url": "/static/bootstrap/js/bootstrap.bundle.min.js"},
}
DJANGO_TABLES2_TEMPLATE = "panel_table.html"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# License: the maximum number of active authorized CallerIDs, used once to create the row.
LICENSE_MAX_ACTIVE_CALLERIDS = env_int("LICENSE_MAX_ACTIVE_CALLERIDS", 1000)
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "EUR")
# The panel home's "low on credit": a limited CallerID with more than 0 and less than this
# (in the server currency) left.
LOW_CREDIT_THRESHOLD = env_str("LOW_CREDIT_THRESHOLD", "5")

# Import limits (SPEC §5.2).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
IMPORT_MAX_LINES = env_int("IMPORT_MAX_LINES", 100_000)
# Cap on the unpacked XML of an uploaded XLSX file (a zip bomb guard).
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_BYTES", 10 * IMPORT_MAX_BYTES)

# On PostgreSQL, CSV exports of CallerIDs and recharge histories let COPY format the rows.
EXPORT_CSV_COPY = env_bool("EXPORT_CSV_COPY", True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security headers; HTTPS settings on when DEBUG is off (behind TLS). Content-Security-Policy:
# panel/csp.py. An operator panel session lasts 8 hours (a working day) by default.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Load balancers probe /healthz over plain HTTP: never redirect it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background tasks (SPEC §12): Django's tasks API (the django-tasks backport). "database"
# keeps them in the database (the embedded default: `manage.py task_worker` runs them);
# "rq" puts them on Redis for RQ workers; "immediate" runs them inside the caller (tests).
TASKS_BACKEND = env_str("TASKS_BACKEND", "database")
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured("TASKS_BACKEND must be database, rq or immediate")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_tasks_rq")
# Enqueued by the scheduler in every task worker (notifications/periodic.py): path -> seconds.
PERIODIC_TASKS = {
    "credit.tasks.release_expired_holds_task": 60,
    "notifications.tasks.deliver_due_task": 60,
}

# Notifications (SPEC §12): e-mail through Django (console by default, SMTP when EMAIL_HOST
# is set), and the address that links in e-mails and webhooks start with.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "callback-manager@localhost")
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# One handler, on the root logger: Django's own "django" console handler would print every
# django.* record a second time. A refused request (403, an out-of-scope 404) is logged as
# one line (user, path, reason), without the traceback Django attaches.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"concise_refusals": {"()": "panel.log_filters.ConciseRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django": {"handlers": [], "propagate": True},
        "django.request": {"filters": ["concise_refusals"]},
    },
}
