"""Settings for the CRM, read from the environment with defaults that run anywhere.

See .env.example and the Configuration table in the README for every variable.
"""

from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file fills in what the environment leaves unset (ENV_FILE names another).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))

DEBUG = env.bool("DEBUG", default=False)

DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off (the development key is public)."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served locally
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "anymail",
    "crm",
    "customers",
    "loyalty",
    "communications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before whitenoise, so static files get these headers too.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Signed-in pages show personal data: no browser or proxy keeps a copy.
    "crm.security.no_store.NoStoreForSignedInMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.security.sessions.SessionTimeoutMiddleware",
    # After the password: a two-factor code, a new password after a one-time
    # one, or setting up two-factor login while it is required.
    "crm.security.login_steps.LoginStepsMiddleware",
    "crm.audit.actor.AuditActorMiddleware",
    # Last, as django-axes asks: turns a lockout into the login page with a reason.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
                "customers.context_processors.navigation",
            ],
        },
    },
]

# What each app adds to the others' pages and commands, in the order shown (or
# run): dotted paths to objects declared by the app that owns them, read by
# customers/wiring.py with import_string. customers imports no other app; this
# is where its pages learn of theirs. Every cross-app link is listed in
# docs/architecture.md.
# The top bar, after the customers' own links (customers.wiring.NavItem).
CRM_NAV_ITEMS = [
    "crm.dashboard.urls.NAV_ITEM",
    "communications.urls.NAV_ITEM",
    "loyalty.urls.NAV_ITEM",
    "crm.api.token_urls.NAV_ITEM",
    "crm.security.urls.NAV_ITEM",
]
# Cards in the customer page's side column (customers.wiring.CustomerPanel).
CRM_CUSTOMER_PANELS = [
    "loyalty.panel.CARD",
]
# Tables whose rows make up a customer's timeline, newest first across all of
# them (customers.timeline.TimelineSource).
CRM_TIMELINE_SOURCES = [
    "customers.timeline.INTERACTIONS",
    "customers.timeline.PURCHASES",
    "customers.timeline.FEEDBACK",
    "loyalty.timeline.POINTS",
    "communications.timeline.MESSAGES",
]
# What the other apps hold about a customer: in the data download, wiped on
# erasure, after the customers' own rows (customers.wiring.PersonalData).
CRM_PERSONAL_DATA = [
    "crm.api.personal_data.PERSONAL_DATA",
    "crm.audit.erasure.PERSONAL_DATA",
    "loyalty.data_rights.PERSONAL_DATA",
    "communications.personal_data.PERSONAL_DATA",
]
# seed_demo's steps after the customers and their history: loyalty first, so
# outreach's first plan sees the members. Each ``seed(seed: int) -> str``.
CRM_DEMO_SEEDERS = [
    "loyalty.demo.seed_demo_summary",
    "communications.demo.seed_demo_summary",
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Logins: django-axes counts failures by account and by client address and
# blocks both for a cool-off (crm/security/lockouts.py); the Owner sees and lifts
# lockouts under /settings/security/lockouts/.
AUTHENTICATION_BACKENDS = [
    "crm.security.lockouts.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crm.security.lockouts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "crm.security.lockouts.client_ip"
# Successful logins are not logged with addresses: less personal data held.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Two-factor login for everyone (crm/security/two_factor.py): the name
# authenticator apps show beside the code.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="CRM")
# Owners delete a lost phone's device in the admin; they never see its key or QR
# code there (which would let them make the user's codes).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploaded import files wait here between the preview and the import.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"  # never served: nothing public is stored there
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=256)
# Uploads up to this size are previewed and imported within the request; larger
# ones run as a Celery job with a progress bar.
IMPORT_INLINE_MAX_KB = env.int("IMPORT_INLINE_MAX_KB", default=512)
# Housekeeping (crm.tasks.housekeeping_task): previews never imported, and their
# files, go after this many days; stored API responses (idempotency) after hours.
IMPORT_UPLOAD_RETENTION_DAYS = env.int("IMPORT_UPLOAD_RETENTION_DAYS", default=7)
IDEMPOTENCY_RETENTION_HOURS = env.int("IDEMPOTENCY_RETENTION_HOURS", default=24)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The REST API under /api/v1/ (crm/api/): Owner-made tokens, or a staff session
# for the browsable API; JSON bodies only, at most 1 MB (crm/api/parsers.py).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.IsStaffMember"],
    "DEFAULT_PARSER_CLASSES": ["crm.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.ApiPagination",
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_token": env("API_TOKEN_RATE", default="600/minute"),
    },
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customers, purchases, interactions and feedback. Authenticate "
    "with `Authorization: Bearer <token>`; send an `Idempotency-Key` header with "
    "every POST so a retry never creates twice.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["crm.api.permissions.IsStaffMember"],
    # Request bodies without the read-only fields, so clients (and schemathesis)
    # see exactly what they may send.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.forbid_unknown_fields",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Redis is optional: without it Celery uses kombu's filesystem transport, so a
# fresh machine runs a real worker and beat with no server to install.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # A miss, not a 500, while Redis is away (crm/cache.py).
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Sessions read from Redis, written through to the database: one query less
    # on every page, and nobody is logged out if Redis restarts.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # A file cache, not local memory: the web server and the worker share it.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("CACHE_DIR", default=str(BASE_DIR / ".cache")),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = Path(env("CELERY_BROKER_DIR", default=str(BASE_DIR / ".broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker process dies is given back to the queue (with acks_late).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE: dict = {
    "worker-heartbeat": {
        "task": "crm.tasks.record_worker_heartbeat",
        "schedule": 60.0,
    },
    # Outreach: the schedule itself is Message.scheduled_for in the database.
    "communications-plan": {
        "task": "communications.tasks.plan_outreach_task",
        "schedule": env.float("OUTREACH_PLAN_EVERY_SECONDS", default=300.0),
    },
    "communications-dispatch": {
        "task": "communications.tasks.dispatch_due_messages",
        "schedule": env.float("OUTREACH_DISPATCH_EVERY_SECONDS", default=60.0),
    },
    "communications-sweep": {
        "task": "communications.tasks.sweep_outbox",
        "schedule": 300.0,
    },
    # Loyalty, nightly in the business time zone: expiry first, so tiers and
    # the morning's figures see the day's balances.
    "loyalty-expire-points": {
        "task": "loyalty.tasks.expire_points_task",
        "schedule": crontab(hour=0, minute=15),
    },
    "loyalty-birthday-bonuses": {
        "task": "loyalty.tasks.grant_birthday_bonuses_task",
        "schedule": crontab(hour=0, minute=30),
    },
    "loyalty-recalculate-tiers": {
        "task": "loyalty.tasks.recalculate_tiers_task",
        "schedule": crontab(hour=0, minute=45),
    },
    "housekeeping": {
        "task": "crm.tasks.housekeeping_task",
        "schedule": crontab(minute=40),
    },
    # The dashboard's lifetime value models, fitted on data up to yesterday.
    "dashboard-clv-fit": {
        "task": "crm.tasks.refresh_clv_fit_task",
        "schedule": crontab(hour=1, minute=30),
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crm@localhost")
# A provider's HTTP API through django-anymail (wins over EMAIL_URL): any of
# anymail's backends by name (ses, mailgun, postmark, sendgrid, brevo, ...).
EMAIL_PROVIDER = env("EMAIL_PROVIDER", default="").strip().lower()
if EMAIL_PROVIDER:
    _esp = {"ses": "amazon_ses", "sendinblue": "brevo"}.get(EMAIL_PROVIDER)
    if not find_spec(f"anymail.backends.{_esp or EMAIL_PROVIDER}"):
        raise ImproperlyConfigured(
            f"EMAIL_PROVIDER={EMAIL_PROVIDER!r} is not a django-anymail provider "
            "(for SMTP, console or file, leave it empty and set EMAIL_URL)."
        )
    EMAIL_BACKEND = f"anymail.backends.{_esp or EMAIL_PROVIDER}.EmailBackend"
_anymail = {
    "MAILGUN_API_KEY": env("MAILGUN_API_KEY", default=""),
    "MAILGUN_SENDER_DOMAIN": env("MAILGUN_SENDER_DOMAIN", default=""),
    "MAILGUN_API_URL": env("MAILGUN_API_URL", default=""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", default=""),
    "SENDGRID_API_KEY": env("SENDGRID_API_KEY", default=""),
    "BREVO_API_KEY": env("BREVO_API_KEY", default=""),
    "AMAZON_SES_CONFIGURATION_SET_NAME": env(
        "AMAZON_SES_CONFIGURATION_SET_NAME", default=""
    ),
    # "user:password" that every provider's webhook URL carries (basic auth).
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
}
if _region := env("AMAZON_SES_REGION", default=""):
    _anymail["AMAZON_SES_CLIENT_PARAMS"] = {"region_name": _region}
# Any other anymail setting, as JSON: {"MAILJET_API_KEY": "...", ...}.
ANYMAIL = {
    **{k: v for k, v in _anymail.items() if v},
    **env.json("ANYMAIL_SETTINGS", default={}),
}

# The business this installation serves.
BUSINESS_NAME = env("BUSINESS_NAME", default="Our shop")
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="EUR")
# Days without contact before a customer shows under "needs follow-up".
FOLLOW_UP_AFTER_DAYS = env.int("FOLLOW_UP_AFTER_DAYS", default=30)

# The owners' dashboard (crm/dashboard, crm/metrics): a customer is active while
# their last purchase is within this many days (the page can change it).
DASHBOARD_ACTIVITY_WINDOW_DAYS = env.int("DASHBOARD_ACTIVITY_WINDOW_DAYS", default=365)
# Lifetime value predictions are shown only with at least this much data.
CLV_MIN_CUSTOMERS = env.int("CLV_MIN_CUSTOMERS", default=300)
CLV_MIN_HISTORY_DAYS = env.int("CLV_MIN_HISTORY_DAYS", default=180)
CLV_MIN_REPEAT_CUSTOMERS = env.int("CLV_MIN_REPEAT_CUSTOMERS", default=100)

# Outreach (communications): links in messages point at SITE_URL.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
SMS_BACKEND = env(
    "SMS_BACKEND", default="communications.delivery.sms.ConsoleSmsBackend"
)
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(BASE_DIR / "sent-sms.jsonl"))
# communications.delivery.twilio.TwilioSmsBackend: the account, and the number
# (or Messaging Service) it sends from.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
# The country of phone numbers written without +country code (e.g. GB); empty:
# such numbers are not guessed at, their SMS are skipped.
PHONE_REGION = env("PHONE_REGION", default="").upper()
COMMUNICATIONS_CHUNK_SIZE = env.int("COMMUNICATIONS_CHUNK_SIZE", default=100)
COMMUNICATIONS_DISPATCH_LIMIT = env.int("COMMUNICATIONS_DISPATCH_LIMIT", default=5000)
COMMUNICATIONS_MAX_ATTEMPTS = env.int("COMMUNICATIONS_MAX_ATTEMPTS", default=5)
# Seconds before the sweeper hands out again a queued message whose task never
# ran, and before it reconciles one stuck in "sending" (its worker died).
COMMUNICATIONS_REQUEUE_AFTER = env.int("COMMUNICATIONS_REQUEUE_AFTER", default=600)
COMMUNICATIONS_SENDING_TIMEOUT = env.int("COMMUNICATIONS_SENDING_TIMEOUT", default=600)
# The header a provider reads as an idempotency key (e.g. Resend-Idempotency-Key).
COMMUNICATIONS_IDEMPOTENCY_HEADER = env(
    "COMMUNICATIONS_IDEMPOTENCY_HEADER", default="Idempotency-Key"
)

# Transport security. HTTPS=true in production (behind TLS): secure cookies,
# redirects to https and HSTS for a year. TRUST_PROXY_HEADERS=true only when a
# reverse proxy sets X-Forwarded-Proto and X-Forwarded-For (PROXY_COUNT proxies):
# otherwise anyone could send those headers.
HTTPS = env.bool("HTTPS", default=False)
TRUST_PROXY_HEADERS = env.bool("TRUST_PROXY_HEADERS", default=False)
PROXY_COUNT = env.int("PROXY_COUNT", default=1)
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=HTTPS)
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token, and the browsable API
# and Swagger UI read it from the page.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): only this site's own files; no inline
# script or style, no plugins, no framing. Site behaviour lives in static/js/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its form icons as data: SVGs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Sessions: the idle and absolute limits are the Owner's (crm.security.models);
# this is only the longest any session cookie may live.
SESSION_COOKIE_AGE = 30 * 24 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # django-axes logs every successful login at INFO; failures and lockouts
    # are WARNING and stay.
    "loggers": {"axes": {"level": "WARNING"}},
}
