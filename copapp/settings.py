"""copapp settings: one module, driven by environment variables.

With no environment set this is the *embedded default*: SQLite, a local-memory cache, Celery in eager mode and
e-mail printed to the console, so a newcomer needs nothing but Python. ``DATABASE_URL`` and ``REDIS_URL``
switch to PostgreSQL and Redis. Every variable is listed in the README.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from copapp.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
# Under pytest: fast hashing, in-memory e-mail, eager Celery (a test that needs the real worker says so).
TESTING = env_bool("COPAPP_TESTING", "pytest" in sys.modules)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-embedded-default-only-for-local-use"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "copapp")

SOCIAL_PROVIDERS = env_list("SOCIAL_PROVIDERS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    *[f"allauth.socialaccount.providers.{name}" for name in SOCIAL_PROVIDERS],
    "guardian",
    "simple_history",
    "django_htmx",
    "csp",
    "members",
    "communities",
    "spaces",
    "analytics",
    "copapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "members.middleware.ResolvedUserMiddleware",
    "copapp.limits.LimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "members.language.MemberLanguageMiddleware",
    "members.middleware.MemberTimezoneMiddleware",
    "members.middleware.StaffMFAMiddleware",
]

ROOT_URLCONF = "copapp.urls"
WSGI_APPLICATION = "copapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "copapp.context_processors.site",
                "members.context_processors.notifications",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        planner = []
        if not env_bool("DB_JIT", False):
            # PostgreSQL's JIT spends about a second compiling each permission-filtered query (many OR'd EXISTS) and
            # gains nothing on queries this short: measured by the benchmark (bench/), so it is off unless asked for.
            planner.append("-c jit=off")
        # A page's queries join up to twenty tables by key to read one row or one page of rows; trying every order
        # of eight of them cost PostgreSQL more time planning than running them (a page view: 9 ms of planning and
        # execution at the scale data set with the default 8, 5 ms with 4; bench/page_cpu.py --slow).
        collapse = env_int("DB_JOIN_COLLAPSE_LIMIT", 4)
        planner.append(f"-c join_collapse_limit={collapse} -c from_collapse_limit={collapse}")
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(planner)
        if env_bool("DB_PREPARED_STATEMENTS", True):
            # Parameters sent apart from the SQL, and statements a connection has run DB_PREPARE_THRESHOLD times
            # prepared, so that PostgreSQL may plan them once (copapp.plans says why and where it must not). Turn
            # off behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
            DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
            DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env_int("DB_PREPARE_THRESHOLD", 5)
        DATABASES["default"]["ENGINE"] = "copapp.postgresql"
    if env_str("DATABASE_TEST_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ------------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Clearing the cache (restore, tests) must not flush the Celery queue sharing this Redis (copapp.cache).
    CACHES = {
        "default": {
            "BACKEND": "copapp.cache.PrefixedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "copapp"),
        }
    }
    if TESTING:
        # Parallel test workers share one Redis but not their databases (whose ids overlap): keep their keys apart.
        CACHES["default"]["KEY_PREFIX"] = os.environ.get("PYTEST_XDIST_WORKER", "tests")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "copapp"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "copapp")
CELERY_BEAT_SCHEDULE: dict = {
    "expire-invitations": {"task": "spaces.tasks.invitations_expire_task", "schedule": 3600.0},
    "purge-trash": {"task": "spaces.tasks.trash_purge_task", "schedule": 24 * 3600.0},
    # On the hour, so each member's local digest hour comes round exactly once (members.services_digests).
    "send-digests": {"task": "members.tasks.digests_send_due_task", "schedule": crontab(minute=0)},
    "publish-scheduled-posts": {"task": "spaces.tasks.posts_publish_due_task", "schedule": 60.0},
    "event-reminders": {"task": "members.tasks.event_reminders_task", "schedule": 15 * 60.0},
    "purge-data-exports": {"task": "members.tasks.data_exports_purge_task", "schedule": 3600.0},
    "analytics-rollup": {"task": "analytics.tasks.rollup_task", "schedule": 5 * 60.0},
    "analytics-purge": {"task": "analytics.tasks.purge_task", "schedule": crontab(hour=3, minute=30)},
    "webhooks-retry": {"task": "spaces.tasks.webhook_deliveries_retry_task", "schedule": 60.0},
    "search-words-collect": {"task": "spaces.tasks.search_words_collect_task", "schedule": 5 * 60.0},
}

# --- Auth, accounts (django-allauth), object permissions (django-guardian) -----------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "anonymous user" row: nothing is ever granted to anonymous visitors object by object.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional" if DEBUG else "mandatory")
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
# Brute-force protection (allauth): after 5 failed sign-ins for one address within 5 minutes, or 10 a minute from
# one IP address, sign-in is refused with a message until the window has passed (even with the right password).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
SOCIALACCOUNT_ENABLED = True
# Social login is off until an administrator lists providers (e.g. SOCIAL_PROVIDERS=google,microsoft) and adds
# each provider's client id and secret as a "Social application" in the admin.
SOCIALACCOUNT_PROVIDERS: dict = {}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Site staff must enrol an authenticator app before they can use the site. Off in the local demo (DEBUG) so
# a first look needs no phone; on in production.
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", not DEBUG)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["copapp.formats"]

# --- Static and uploaded files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Space files: never under a public URL; served only by the permission-checked download view.
    "private": {"BACKEND": "copapp.storage.PrivateFileStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 2 * 1024 * 1024)
LOGO_MAX_BYTES = env_int("LOGO_MAX_BYTES", 2 * 1024 * 1024)
FILE_MAX_BYTES = env_int("FILE_MAX_BYTES", 25 * 1024 * 1024)
TRASH_RETENTION_DAYS = env_int("TRASH_RETENTION_DAYS", 30)
# Where `manage.py backup` writes its archives when no --output is given (issue 8).
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "backups")))
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# --- Community rules ------------------------------------------------------------------------------------------
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 14)

# --- Outgoing webhooks (issue 8) --------------------------------------------------------------------------------
# Webhooks never reach loopback, private (RFC 1918, ULA), link-local, multicast or reserved addresses, checked
# when a webhook is saved and again at each delivery (DNS rebinding), unless this is switched on.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False)

# --- Moderation (issue 5): flag weights, automatic hiding, limits for new accounts ------------------------------
# Content is hidden pending review once its open flags weigh FLAG_AUTO_HIDE_WEIGHT and come from at least
# FLAG_AUTO_HIDE_MIN_FLAGGERS people. A flag weighs FLAG_TRUSTED_WEIGHT when its author has FLAG_TRUSTED_MIN_FLAGS
# or more earlier resolved flags of which at least FLAG_TRUSTED_RATIO were upheld, FLAG_DISTRUSTED_WEIGHT when
# fewer than FLAG_DISTRUSTED_RATIO were, and 1 otherwise.
FLAG_AUTO_HIDE_WEIGHT = 3
FLAG_AUTO_HIDE_MIN_FLAGGERS = 2
FLAG_TRUSTED_MIN_FLAGS = 3
FLAG_TRUSTED_RATIO = 0.7
FLAG_TRUSTED_WEIGHT = 1.5
FLAG_DISTRUSTED_RATIO = 0.3
FLAG_DISTRUSTED_WEIGHT = 0.5
# During a member's first NEW_ACCOUNT_HOURS (0 switches the limits off): at most this many posts (items of any
# kind) an hour, links per post and @mentions per post. Site staff are exempt.
NEW_ACCOUNT_HOURS = 24
NEW_ACCOUNT_MAX_POSTS_PER_HOUR = 5
NEW_ACCOUNT_MAX_LINKS = 2
NEW_ACCOUNT_MAX_MENTIONS = 3

# --- Notifications (issue 5) ------------------------------------------------------------------------------------
# At most this many immediate notification e-mails (mentions, replies, moderation, decisions, reminders) per
# member in the window; the rest wait for the digest. Account, security and invitation e-mails are never capped.
IMMEDIATE_EMAIL_CAP_PER_HOUR = 1
IMMEDIATE_EMAIL_CAP_WINDOW_MINUTES = 60

# --- Digests (issue 5, items 7-9) -------------------------------------------------------------------------------
# Members per batch: composed in a fixed number of queries and sent over one mail connection. A batch reads the
# news of every space its members follow, so bigger batches share that reading among more members: at the
# benchmark's scale (1,000 spaces) a batch of 200 spent most of its time there (13 ms a member, against 5 ms for
# 2,000; about 360 MB for the worker). A worker killed mid-batch leaves one digest "uncertain" and the batch's
# unsent ones pending until their claim expires.
DIGEST_BATCH_SIZE = env_int("DIGEST_BATCH_SIZE", 2000)
# A digest still "sending" after this long (its worker died during SMTP) is marked "uncertain" by the next run.
# Keep it above the time one batch can take to send (DIGEST_BATCH_SIZE messages over one connection).
DIGEST_SENDING_STALE_SECONDS = env_int("DIGEST_SENDING_STALE_SECONDS", 900)
# Test-only: a pause before each digest e-mail, so a test can kill a worker in the middle of a batch.
DIGEST_SEND_DELAY_MS = env_int("DIGEST_SEND_DELAY_MS", 0)

# --- Analytics (issue 6) ----------------------------------------------------------------------------------------
# Raw activity events older than this many months are purged daily (whole days); the roll-ups are kept.
ANALYTICS_RAW_RETENTION_MONTHS = env_int("ANALYTICS_RAW_RETENTION_MONTHS", 25)
# Aggregated exports suppress counts below this, so no individual can be singled out.
ANALYTICS_SUPPRESS_BELOW = env_int("ANALYTICS_SUPPRESS_BELOW", 5)
# Ambassador badges: accepted invitations needed for each level.
ANALYTICS_AMBASSADOR_LEVELS = {"bronze": 2, "silver": 10, "gold": 25}

# --- REST API (issue 8) -----------------------------------------------------------------------------------------
# Requests per personal access token (or per signed-in member, or per address for anonymous callers) in a fixed
# window, counted in the cache: "600/hour", "20/minute"; "off" for no limit. Over it the API answers 429.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/hour")

# --- Web rate limits and request size (issue 10; copapp.limits) --------------------------------------------------
# Fixed windows counted in the cache, like API_RATE_LIMIT ("300/minute", "off"). Over a limit: 429 and Retry-After.
# Anonymous requests per address; writes (POST/PUT/PATCH/DELETE) per signed-in member; sign-in attempts per
# account and address (allauth's ACCOUNT_RATE_LIMITS above still pause an account after failures from anywhere).
RATE_LIMIT_ANONYMOUS = env_str("RATE_LIMIT_ANONYMOUS", "300/minute")
RATE_LIMIT_MEMBER_WRITES = env_str("RATE_LIMIT_MEMBER_WRITES", "60/minute")
RATE_LIMIT_LOGIN = env_str("RATE_LIMIT_LOGIN", "10/minute")
# How many reverse proxies append to X-Forwarded-For (allauth reads it for its limits, and so do ours): the
# production default is the one TLS proxy in front (README); 0 trusts only the connection's own address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0 if DEBUG else 1)
# A request announcing a larger body is answered 413 before it is read ("0" for no limit): room for a message
# with five files of FILE_MAX_BYTES and its form fields.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 5 * FILE_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE)

# --- E-mail ---------------------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    # A mail server that stops answering must not hold a worker (and its digests in "sending") forever.
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 60)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    # For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (one file per connection).
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent-emails"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production values switch on with DEBUG=0) -------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("BEHIND_TLS_PROXY", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis in production) and written through to the database, so a signed-in
# request does not pay a session query. Several processes need a shared cache (REDIS_URL) for this, as for the
# rest of the cache: without it, a session ended in one process could live on in another's memory for minutes.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Browsers hold a form's redirect to form-action too: "Continue with Google" posts here, then is sent to the provider.
_SOCIAL_LOGIN_HOSTS = {
    "google": "https://accounts.google.com",
    "microsoft": "https://login.microsoftonline.com",
    "github": "https://github.com",
    "gitlab": "https://gitlab.com",
    "linkedin_oauth2": "https://www.linkedin.com",
}
# Content-Security-Policy (django-csp) on every response: scripts, styles and everything else from this site only, no
# inline script, style or event handler anywhere (templates load static files; data goes in data-* attributes or a
# json_script block), never framed. Images may also be data: URIs, which cannot run script: the two-factor set-up
# page draws its QR code as one (allauth) and Swagger UI's stylesheet its icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *sorted({_SOCIAL_LOGIN_HOSTS.get(name, "") for name in SOCIAL_PROVIDERS} - {""})],
        "frame-ancestors": ["'none'"],
    },
}
SILENCED_SYSTEM_CHECKS: list[str] = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    CELERY_TASK_ALWAYS_EAGER = True
    STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", False)
    ACCOUNT_EMAIL_VERIFICATION = "optional"
    ACCOUNT_RATE_LIMITS = False
    # The suite makes thousands of requests from 127.0.0.1: the tests of the limits switch them on.
    RATE_LIMIT_ANONYMOUS = RATE_LIMIT_MEMBER_WRITES = RATE_LIMIT_LOGIN = "off"
    # Every test member is minutes old: the new-account limits are switched on by the tests that check them.
    NEW_ACCOUNT_HOURS = 0
