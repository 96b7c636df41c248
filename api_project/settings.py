"""Settings for the whole service, read from the environment (12-factor).

One module for every environment: the defaults run a development server on one machine
(SQLite, local-memory cache, console e-mail); production sets the variables listed in
the README. A bad value stops start-up with one line naming the variable.
"""

from pathlib import Path

from api_project.config import ConfigError, Reader, fail, require_strong_secret
from sessions_api.conf import DEFAULTS as SESSIONS_API_DEFAULTS
from tasks_api.conf import DEFAULTS as TASKS_API_DEFAULTS

# The apps' own defaults, so that each default is written once.
app_defaults = {**SESSIONS_API_DEFAULTS, **TASKS_API_DEFAULTS}

BASE_DIR = Path(__file__).resolve().parent.parent

env = Reader()

try:
    # GENERAL
    # ------------------------------------------------------------------------------
    DEBUG = env.bool("DJANGO_DEBUG", False)
    SECRET_KEY = env.str("DJANGO_SECRET_KEY") or ""
    # Older keys, still accepted for signatures (sessions, cookies, the login registry's
    # sealed keys) while they are rotated out; new ones use SECRET_KEY.
    SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", [])
    if not DEBUG:
        if not SECRET_KEY:
            raise ConfigError(
                "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
                "(`make run` makes a local one)."
            )
        # A weak key signs cookies anyone can forge: refused, not only warned about.
        require_strong_secret("DJANGO_SECRET_KEY", SECRET_KEY)
        for _index, _fallback in enumerate(SECRET_KEY_FALLBACKS):
            require_strong_secret(f"DJANGO_SECRET_KEY_FALLBACKS[{_index}]", _fallback)
    elif not SECRET_KEY:
        SECRET_KEY = "insecure-development-key-" + "x" * 40
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
    ALLOW_REGISTRATION = env.bool("ALLOW_REGISTRATION", app_defaults["ALLOW_REGISTRATION"])

    LANGUAGE_CODE = "en-us"
    TIME_ZONE = "UTC"
    USE_I18N = True
    USE_TZ = True
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
    ROOT_URLCONF = "api_project.urls"
    WSGI_APPLICATION = "api_project.wsgi.application"

    # APPS
    # ------------------------------------------------------------------------------
    INSTALLED_APPS = [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "corsheaders",
        "csp",
        "rest_framework",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "django_celery_results",
        "sessions_api",
        "tasks_api",
    ]

    MIDDLEWARE = [
        "sessions_api.request_log.RequestLogMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "csp.middleware.CSPMiddleware",
        "api_project.middleware.WhiteNoiseMiddleware",
        "sessions_api.guards.ApiRequestGuardMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "sessions_api.middleware.RegistryAuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]

    TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [BASE_DIR / "api_project" / "templates"],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.debug",
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                    "django.template.context_processors.csrf",
                ],
            },
        },
    ]

    # DATABASES
    # ------------------------------------------------------------------------------
    DATABASES = {"default": env.url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", "db")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # Two gunicorn workers plus a Celery worker write here at once: WAL lets readers
        # run beside the writer, IMMEDIATE takes the write lock when a transaction
        # starts (no deadlocking upgrade from a read lock), and the busy timeout makes
        # a writer wait for the lock instead of answering "database is locked".
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
            }
        )
    else:
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Persistent connections on SQLite too: opening one (and running the PRAGMAs above)
    # costs more than the session read a request makes with it.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", 60, minimum=0)

    # CACHES
    # ------------------------------------------------------------------------------
    CACHES = {"default": env.url("CACHE_URL", "locmemcache://", "cache")}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # The same backend, with one redis-py client per pool instead of one per call.
        CACHES["default"]["BACKEND"] = "api_project.cache.RedisCache"

    # SESSIONS
    # ------------------------------------------------------------------------------
    SESSION_ENGINE = env.session_engine()
    SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
    SESSION_COOKIE_NAME = env.str("SESSION_COOKIE_NAME", "sessionid")
    SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 1209600, minimum=1)
    SESSION_COOKIE_DOMAIN = env.str("SESSION_COOKIE_DOMAIN") or None
    SESSION_COOKIE_PATH = env.str("SESSION_COOKIE_PATH", "/")
    SESSION_COOKIE_HTTPONLY = env.bool("SESSION_COOKIE_HTTPONLY", True)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", False)
    _samesite = env.choice("SESSION_COOKIE_SAMESITE", "Lax", ["Lax", "Strict", "None", "false"])
    SESSION_COOKIE_SAMESITE = False if _samesite == "false" else _samesite
    SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
    SESSION_SAVE_EVERY_REQUEST = env.bool("SESSION_SAVE_EVERY_REQUEST", False)
    SESSION_FILE_PATH = env.str("SESSION_FILE_PATH") or None
    SESSION_CACHE_ALIAS = env.str("SESSION_CACHE_ALIAS", "default")

    SESSION_API_MAX_VALUE_BYTES = env.int(
        "SESSION_API_MAX_VALUE_BYTES", app_defaults["SESSION_API_MAX_VALUE_BYTES"], minimum=1
    )
    SESSION_API_MAX_SESSION_BYTES = env.int(
        "SESSION_API_MAX_SESSION_BYTES", app_defaults["SESSION_API_MAX_SESSION_BYTES"], minimum=2
    )
    SESSION_API_MAX_KEYS = env.int(
        "SESSION_API_MAX_KEYS", app_defaults["SESSION_API_MAX_KEYS"], minimum=1
    )
    SESSION_API_MAX_EXPIRY_SECONDS = env.int(
        "SESSION_API_MAX_EXPIRY_SECONDS", app_defaults["SESSION_API_MAX_EXPIRY_SECONDS"], minimum=1
    )
    SESSION_API_MAX_LOGIN_AGE = env.int(
        "SESSION_API_MAX_LOGIN_AGE", app_defaults["SESSION_API_MAX_LOGIN_AGE"], minimum=1
    )
    # Django's own error pages answer problem+json under these paths.
    SESSION_API_PROBLEM_PATHS = ("/api/", "/healthz", "/readyz")

    # SECURITY
    # ------------------------------------------------------------------------------
    CSRF_COOKIE_NAME = env.str("CSRF_COOKIE_NAME", "csrftoken")
    # The SPA reads the token from this cookie, so it must stay readable by JavaScript.
    CSRF_COOKIE_HTTPONLY = False
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", False)
    _csrf_samesite = env.choice("CSRF_COOKIE_SAMESITE", "Lax", ["Lax", "Strict", "None"])
    CSRF_COOKIE_SAMESITE = _csrf_samesite
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
    CSRF_FAILURE_VIEW = "sessions_api.problems.csrf_failure"

    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
    # Probes (a container's health check, a load balancer) ask over plain HTTP from
    # inside; a redirect would read as down. They carry no cookie and no secret.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = env.bool("SECURE_CONTENT_TYPE_NOSNIFF", True)
    SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", "same-origin")
    SECURE_CROSS_ORIGIN_OPENER_POLICY = env.str("SECURE_CROSS_ORIGIN_OPENER_POLICY", "same-origin")
    X_FRAME_OPTIONS = env.choice("X_FRAME_OPTIONS", "DENY", ["DENY", "SAMEORIGIN"])
    # Content-Security-Policy (django-csp) on every response. The HTML pages (the
    # console, Swagger UI, ReDoc, the admin) load everything from this origin, and an
    # inline script or style runs only with the request's nonce (request.csp_nonce in
    # a template); no eval. The docs views add what their bundles need (api_project/urls.py).
    # frame-ancestors says what X-Frame-Options says, for browsers that read only one.
    from csp.constants import NONCE, NONE, SELF

    CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE],
            "style-src": [SELF, NONCE],
            "img-src": [SELF, "data:"],
            "object-src": [NONE],
            "base-uri": [NONE],
            "form-action": [SELF],
            "frame-ancestors": [NONE if X_FRAME_OPTIONS == "DENY" else SELF],
        }
    }
    _proxy_header = env.list("SECURE_PROXY_SSL_HEADER", [])
    if _proxy_header:
        if len(_proxy_header) != 2:
            raise ConfigError(
                "SECURE_PROXY_SSL_HEADER must be 'HEADER,value', "
                "for example HTTP_X_FORWARDED_PROTO,https."
            )
        SECURE_PROXY_SSL_HEADER = tuple(_proxy_header)

    CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", [])
    CORS_ALLOW_CREDENTIALS = True
    CORS_EXPOSE_HEADERS = ["Location", "Retry-After"]

    DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2621440, minimum=1024)

    # AUTH
    # ------------------------------------------------------------------------------
    # How many reverse proxies in front may be trusted for X-Forwarded-For (client
    # addresses in the session registry and the login throttles). None by default:
    # any client can send the header.
    TRUSTED_PROXY_COUNT = env.int(
        "TRUSTED_PROXY_COUNT", app_defaults["TRUSTED_PROXY_COUNT"], minimum=0
    )
    # Failed logins: per address and username (strict), per address, and per username
    # from every address (looser, so a flood from elsewhere locks nobody out early).
    LOGIN_THROTTLE_IP_USERNAME_RATE = env.rate(
        "LOGIN_THROTTLE_IP_USERNAME_RATE", app_defaults["LOGIN_THROTTLE_IP_USERNAME_RATE"]
    )
    LOGIN_THROTTLE_IP_RATE = env.rate(
        "LOGIN_THROTTLE_IP_RATE", app_defaults["LOGIN_THROTTLE_IP_RATE"]
    )
    LOGIN_THROTTLE_USERNAME_RATE = env.rate(
        "LOGIN_THROTTLE_USERNAME_RATE", app_defaults["LOGIN_THROTTLE_USERNAME_RATE"]
    )
    REGISTER_THROTTLE_RATE = env.rate(
        "REGISTER_THROTTLE_RATE", app_defaults["REGISTER_THROTTLE_RATE"]
    )
    AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]

    # STATIC FILES (whitenoise serves them under gunicorn)
    # ------------------------------------------------------------------------------
    STATIC_URL = "/static/"
    STATIC_ROOT = BASE_DIR / "staticfiles"
    # The browser console's and the API docs' own files (api_project is not an app).
    STATICFILES_DIRS = [BASE_DIR / "api_project" / "static"]
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": env.str(
                "STATICFILES_BACKEND",
                "whitenoise.storage.CompressedManifestStaticFilesStorage",
            )
        },
    }
    WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", DEBUG)

    # EMAIL
    # ------------------------------------------------------------------------------
    if env.raw("EMAIL_URL"):
        vars().update(env.url("EMAIL_URL", "", "email"))
    else:
        EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "sessions-api@localhost")

    # DJANGO REST FRAMEWORK
    # ------------------------------------------------------------------------------
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["sessions_api.authentication.CsrfSessionAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["sessions_api.parsers.StrictJSONParser"],
        "DEFAULT_CONTENT_NEGOTIATION_CLASS": "sessions_api.negotiation.JsonNegotiation",
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "EXCEPTION_HANDLER": "sessions_api.problems.problem_exception_handler",
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
        "DEFAULT_VERSIONING_CLASS": None,
        "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    }

    SPECTACULAR_SETTINGS = {
        "TITLE": "Sessions API",
        "VERSION": "1.0.0",
        "DESCRIPTION": (BASE_DIR / "openapi" / "description.md").read_text(encoding="utf-8"),
        "SERVE_INCLUDE_SCHEMA": False,
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "COMPONENT_SPLIT_REQUEST": True,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "SWAGGER_UI_SETTINGS": {
            "persistAuthorization": True,
            "displayRequestDuration": True,
            # Never send the schema to swagger.io's online validator: the page stays offline.
            "validatorUrl": None,
            # Read by api_project/static/api_docs/swagger_csrf.js, which sends the
            # current CSRF cookie with each "Try it out" (login rotates the token).
            "csrfCookieName": CSRF_COOKIE_NAME,
        },
        "ENUM_NAME_OVERRIDES": {},
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "sessions_api.schema.exactly_one_of",
            "api_project.openapi.fill_rules",
        ],
        "AUTHENTICATION_WHITELIST": ["sessions_api.authentication.CsrfSessionAuthentication"],
    }

    # CELERY (read by api_project/celery.py; tests/tasks_api/test_config.py asserts it)
    # ------------------------------------------------------------------------------
    from celery.schedules import crontab

    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", "amqp://guest:guest@localhost:5672//")
    # django-celery-results' table, where a finished task stays finished (tasks_api.results).
    CELERY_RESULT_BACKEND = "tasks_api.results:ResultBackend"
    CELERY_RESULT_EXTENDED = True
    # Results are deleted together with their task records (tasks_api, TASKS_RETENTION_DAYS):
    # Celery's own daily cleanup would drop results that records still point at.
    CELERY_RESULT_EXPIRES = None
    CELERY_ACCEPT_CONTENT = ["json"]
    CELERY_RESULT_ACCEPT_CONTENT = ["json"]
    CELERY_TASK_SERIALIZER = "json"
    CELERY_RESULT_SERIALIZER = "json"
    CELERY_TIMEZONE = TIME_ZONE
    CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", "celery")
    # A message is acknowledged only once its task has run, so a worker killed mid-task
    # (even by SIGKILL) leaves it with the broker, which delivers it again; one message
    # per worker process at a time, so a dying worker holds back as little as possible.
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    # With late acks a lost broker connection means redelivery: stop the running copy
    # rather than let two run at once.
    CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
    CELERY_TASK_TRACK_STARTED = True
    # demo.sleep may run 600 s; the soft limit raises inside the task, the hard one kills.
    CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 660, minimum=1)
    CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 720, minimum=2)
    if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
        raise ConfigError(
            "CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT, or the task "
            "is killed before it can clean up."
        )
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
    # Seconds for one connection attempt. The web side tries once and leaves the task to
    # the outbox relay (see tasks_api.broker): an enqueue never hangs on a dead broker.
    CELERY_BROKER_CONNECTION_TIMEOUT = env.int("CELERY_BROKER_CONNECTION_TIMEOUT", 2, minimum=1)
    if CELERY_BROKER_URL.startswith("filesystem://"):
        # The embedded broker of `make run` (no RabbitMQ on this machine): kombu's
        # filesystem transport, one folder shared by the web, worker and beat processes.
        _broker_dir = Path(env.str("CELERY_FILESYSTEM_BROKER_DIR") or BASE_DIR / ".run" / "broker")
        for _folder in ("queue", "processed", "control"):
            (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "data_folder_in": str(_broker_dir / "queue"),
            "data_folder_out": str(_broker_dir / "queue"),
            "processed_folder": str(_broker_dir / "processed"),
            "control_folder": str(_broker_dir / "control"),
            "store_processed": False,
        }
    else:
        # Publisher confirms: a publish returns only once RabbitMQ has the message.
        CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    # No django-celery-beat: the schedule is code, and beat keeps its state in a file.
    CELERY_BEAT_SCHEDULE = {
        "sessions.clear_expired": {
            "task": "tasks_api.sessions_clear_expired_daily",
            "schedule": crontab(hour=3, minute=17),
        },
        "tasks.prune": {
            "task": "tasks_api.tasks_prune_daily",
            "schedule": crontab(hour=3, minute=47),
        },
    }

    # TASKS (tasks_api)
    # ------------------------------------------------------------------------------
    # Enqueues per owner (the user, or the anonymous session); DRF rate syntax.
    TASKS_ENQUEUE_RATE = env.rate("TASKS_ENQUEUE_RATE", app_defaults["TASKS_ENQUEUE_RATE"])
    # Enqueues of all anonymous owners from one client address together: fresh
    # sessions do not multiply TASKS_ENQUEUE_RATE.
    TASKS_ENQUEUE_ADDRESS_RATE = env.rate(
        "TASKS_ENQUEUE_ADDRESS_RATE", app_defaults["TASKS_ENQUEUE_ADDRESS_RATE"]
    )
    # Unfinished tasks one owner may have, scheduled ones included.
    TASKS_MAX_ACTIVE_PER_OWNER = env.int(
        "TASKS_MAX_ACTIVE_PER_OWNER", app_defaults["TASKS_MAX_ACTIVE_PER_OWNER"], minimum=1
    )
    # mail.send recipients per user in any 24 hours.
    TASKS_MAIL_DAILY_RECIPIENTS = env.int(
        "TASKS_MAIL_DAILY_RECIPIENTS", app_defaults["TASKS_MAIL_DAILY_RECIPIENTS"], minimum=1
    )
    # Task types switched off (comma list of names): not listed, refused, not run.
    TASKS_DISABLED_TYPES = env.list(
        "TASKS_DISABLED_TYPES", list(app_defaults["TASKS_DISABLED_TYPES"])
    )
    # Seconds a publish may wait for the broker's confirm (the outbox keeps what fails).
    TASKS_PUBLISH_TIMEOUT = env.int(
        "TASKS_PUBLISH_TIMEOUT", app_defaults["TASKS_PUBLISH_TIMEOUT"], minimum=1
    )
    # Due messages the outbox may hold unsent (the broker away) before enqueue is 503.
    TASKS_OUTBOX_MAX = env.int("TASKS_OUTBOX_MAX", app_defaults["TASKS_OUTBOX_MAX"], minimum=1)
    # The longest a task may be scheduled ahead (countdown or run_after), in seconds.
    TASKS_MAX_DELAY_SECONDS = env.int(
        "TASKS_MAX_DELAY_SECONDS", app_defaults["TASKS_MAX_DELAY_SECONDS"], minimum=1
    )
    # Task records and their results are deleted this many days after submission.
    TASKS_RETENTION_DAYS = env.int(
        "TASKS_RETENTION_DAYS", app_defaults["TASKS_RETENTION_DAYS"], minimum=1
    )

    # LIVE EVENTS (sessions_api.events, GET /api/v1/events/)
    # ------------------------------------------------------------------------------
    # The Redis server events are kept on; unset: the cache's, when CACHE_URL is Redis
    # (under its key prefix). Without either, events are off (the stream answers 503).
    EVENTS_REDIS_URL = env.str("EVENTS_REDIS_URL") or app_defaults["EVENTS_REDIS_URL"]
    if EVENTS_REDIS_URL and not EVENTS_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "EVENTS_REDIS_URL must be a redis://, rediss:// or unix:// URL, "
            "for example redis://127.0.0.1:6379/2."
        )
    # Prefix of the event store's keys; unset: the cache's KEY_PREFIX + ":events" when
    # the store is the cache's Redis, else "events".
    EVENTS_KEY_PREFIX = env.str("EVENTS_KEY_PREFIX") or app_defaults["EVENTS_KEY_PREFIX"]
    EVENTS_RETENTION_SECONDS = env.int(
        "EVENTS_RETENTION_SECONDS", app_defaults["EVENTS_RETENTION_SECONDS"], minimum=1
    )
    EVENTS_MAX_PER_OWNER = env.int(
        "EVENTS_MAX_PER_OWNER", app_defaults["EVENTS_MAX_PER_OWNER"], minimum=1
    )
    EVENTS_MAX_STREAMS_PER_SESSION = env.int(
        "EVENTS_MAX_STREAMS_PER_SESSION", app_defaults["EVENTS_MAX_STREAMS_PER_SESSION"], minimum=1
    )
    EVENTS_HEARTBEAT_SECONDS = env.int(
        "EVENTS_HEARTBEAT_SECONDS", app_defaults["EVENTS_HEARTBEAT_SECONDS"], minimum=1
    )
    EVENTS_RETRY_MILLISECONDS = env.int(
        "EVENTS_RETRY_MILLISECONDS", app_defaults["EVENTS_RETRY_MILLISECONDS"], minimum=0
    )

    # LOGGING
    # ------------------------------------------------------------------------------
    LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
    LOG_FORMAT = env.choice("LOG_FORMAT", "plain", ["plain", "json"])
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "sessions_api.request_log.RequestIdFilter"}},
        "formatters": {
            # Control characters in a message (a path with %0d%0a) are escaped, so
            # that no request can forge a line.
            "plain": {
                "()": "sessions_api.request_log.PlainFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
            "json": {"()": "sessions_api.request_log.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": LOG_FORMAT,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": LOG_LEVEL},
        "loggers": {
            # Our request line covers every response; Django would repeat each 4xx.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
except ConfigError as error:
    fail(str(error))
