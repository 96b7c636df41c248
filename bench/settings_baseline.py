"""Settings of the bare Django baseline: the service's settings, another URLconf.

Everything (middleware, database, cache, logging, CSRF, the session cookie) comes from
``api_project.settings`` and the same environment, so the baseline and the API differ
only in what the request reaches after the middleware: plain function views
(``bench.baseline_urls``) instead of the DRF API.

``BENCH_BASELINE_STORE`` chooses the session store under those views:

* ``django`` (default): Django's own store for the engine
  (``django.contrib.sessions.backends.<engine>``): the bare Django baseline.
* ``project``: the service's store (``sessions_api.engines.<engine>``: Django's store
  plus server-side expiry and the locked merge on save). Plain views over it isolate
  what the store adds from what the API's view layer adds.
"""

import os

from api_project.settings import *  # noqa: F403
from api_project.settings import SESSION_ENGINE as _SERVICE_ENGINE

ROOT_URLCONF = "bench.baseline_urls"

_store = os.environ.get("BENCH_BASELINE_STORE", "django")
if _store == "django":
    SESSION_ENGINE = f"django.contrib.sessions.backends.{_SERVICE_ENGINE.rsplit('.', 1)[-1]}"
    # Bare Django: the apps (which refuse a store that is not theirs at start-up) and
    # their registry middleware make way for Django's own authentication middleware.
    INSTALLED_APPS = [a for a in INSTALLED_APPS if a not in {"sessions_api", "tasks_api"}]  # noqa: F405
    MIDDLEWARE = [
        "django.contrib.auth.middleware.AuthenticationMiddleware"
        if m == "sessions_api.middleware.RegistryAuthenticationMiddleware"
        else m
        for m in MIDDLEWARE  # noqa: F405
    ]
elif _store != "project":
    raise SystemExit(f"BENCH_BASELINE_STORE={_store!r}: use django or project.")
