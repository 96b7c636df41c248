"""Gunicorn configuration, read from the environment.

    gunicorn -c api_project/gunicorn.conf.py --bind HOST:PORT --workers N

The configuration names the application and the worker class, so no application
argument is needed: ``api_project.asgi:application`` on uvicorn's worker
(``api_project.asgi_worker``), which serves the event streams asynchronously and
every other request through Django's WSGI handler in a thread (``api_project.serving``).

Written for gunicorn 23 (the pinned version); every name assigned at module level
without a leading underscore is a gunicorn setting. Each variable is checked here, and
a bad value stops start-up with one line naming it, before any worker is forked.

    GUNICORN_BIND               127.0.0.1:8000   comma list of HOST:PORT, unix:PATH or fd://N
                                                 (the Docker image sets 0.0.0.0:8000)
    GUNICORN_WORKERS            2 * CPUs + 1, at most 8
    GUNICORN_INTERFACE          asgi             asgi: the API and its event streams (uvicorn's
                                                 worker); wsgi: gunicorn's sync/gthread worker
                                                 (each open event stream then holds a worker)
    GUNICORN_THREADS            1                threads running synchronous requests per
                                                 worker (wsgi: more than 1 uses gthread)
    GUNICORN_TIMEOUT            30               seconds a worker may be silent; 0 disables
    GUNICORN_GRACEFUL_TIMEOUT   30               seconds to finish requests on shutdown
    GUNICORN_KEEPALIVE          5                seconds to hold an idle keep-alive connection
    GUNICORN_MAX_REQUESTS       0                recycle a worker after N requests; 0 = never
    GUNICORN_MAX_REQUESTS_JITTER 0               random 0..N added per worker
    GUNICORN_LOG_LEVEL          info             debug, info, warning, error, critical
    GUNICORN_ACCESS_LOG         false            true adds gunicorn's own access log line
    GUNICORN_WORKER_TMP_DIR     /dev/shm if present, else the system temp dir
    FORWARDED_ALLOW_IPS         127.0.0.1        proxies trusted for X-Forwarded-*; * = any
"""

from __future__ import annotations

import ipaddress
import os
from typing import NoReturn

_DEFAULT_WORKER_CAP = 8  # past this, more processes mostly add memory and DB connections
# gunicorn creates its heartbeat file here with mkstemp (unique name, mode 0600), so a
# shared tmpfs is safe to use.
_SHM = "/dev/shm"  # noqa: S108


def _fail(message: str) -> NoReturn:
    raise SystemExit(f"Configuration error: {message}")


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def _int(name: str, default: int, *, minimum: int) -> int:
    raw = _raw(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        _fail(f"{name}={raw!r} is not a whole number.")
    if value < minimum:
        _fail(f"{name}={raw!r} must be at least {minimum}.")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _raw(name).lower()
    if not raw:
        return default
    if raw not in choices:
        _fail(f"{name}={raw!r} is not valid; use one of {', '.join(choices)}.")
    return raw


def _binds(name: str, default: str) -> list[str]:
    addresses = [item.strip() for item in (_raw(name) or default).split(",") if item.strip()]
    if not addresses:
        _fail(f"{name} is empty; use HOST:PORT, unix:PATH or fd://N.")
    for address in addresses:
        if address.startswith(("unix:", "fd://")):
            continue
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            _fail(f"{name}={address!r} is not HOST:PORT (for example 0.0.0.0:8000).")
    return addresses


def _allowed_ips(name: str, default: str) -> str:
    raw = _raw(name) or default
    for item in (part.strip() for part in raw.split(",")):
        if not item or item == "*":
            continue
        try:
            ipaddress.ip_address(item)
        except ValueError:
            _fail(f"{name}={raw!r}: {item!r} is not an IP address (use addresses or *).")
    return raw


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours a container's cpuset
    except AttributeError:
        return os.cpu_count() or 1


def _tmp_dir(name: str) -> str | None:
    raw = _raw(name)
    if raw:
        if not os.path.isdir(raw):
            _fail(f"{name}={raw!r} is not a directory.")
        return raw
    # The heartbeat file is touched constantly; on a disk-backed /tmp that can stall a
    # worker (gunicorn's docs), so use tmpfs when the machine has one.
    return _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else None


# SERVER SOCKET
# ------------------------------------------------------------------------------
bind = _binds("GUNICORN_BIND", "127.0.0.1:8000")
_interface = _choice("GUNICORN_INTERFACE", "asgi", ("asgi", "wsgi"))
wsgi_app = (
    "api_project.asgi:application" if _interface == "asgi" else "api_project.wsgi:application"
)

# WORKERS
# ------------------------------------------------------------------------------
workers = _int("GUNICORN_WORKERS", min(2 * _cpus() + 1, _DEFAULT_WORKER_CAP), minimum=1)
threads = _int("GUNICORN_THREADS", 1, minimum=1)
if _interface == "asgi":
    worker_class = "api_project.asgi_worker.UvicornWorker"
else:
    worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30, minimum=0)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=0)
keepalive = _int("GUNICORN_KEEPALIVE", 5, minimum=0)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0, minimum=0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0, minimum=0)
worker_tmp_dir = _tmp_dir("GUNICORN_WORKER_TMP_DIR")

# Longest request line (method, path and query string) gunicorn accepts; longer ones
# get gunicorn's own plain 400 before the application sees them. 8190 is its maximum.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190, minimum=0)

# Each worker imports the app after the fork, so no database, cache or broker
# connection opened at import time is ever shared between processes, and a HUP
# reloads the code.
preload_app = False

# SECURITY
# ------------------------------------------------------------------------------
# Only these peers may set X-Forwarded-Proto and friends; from anyone else gunicorn
# ignores them, so a client cannot claim HTTPS.
forwarded_allow_ips = _allowed_ips("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 23 has no control socket (added in a later release), so there is nothing
# to turn off here; if the pin moves to a version that has one, disable it here.

# LOGGING
# ------------------------------------------------------------------------------
# The application logs one line per request itself (sessions_api.request_log, with the
# request id and user); gunicorn's access log would repeat it, so it is opt-in.
accesslog = "-" if _raw("GUNICORN_ACCESS_LOG").lower() in {"1", "true", "yes", "on"} else None
errorlog = "-"
loglevel = _choice("GUNICORN_LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical"))
# remote address, time, method, path, protocol, status, bytes sent, duration (ms) and
# the response's X-Request-ID. Deliberately absent, because access logs are kept
# longer and read by more people than the data they describe:
#   %(r)s and %(q)s  the raw request line and the query string, which can carry tokens;
#                    the path is logged without its query (%(U)s);
#   %(f)s            the Referer, a whole URL with its query string;
#   {cookie}i, {authorization}i, {x-csrftoken}i, {set-cookie}o
#                    the session key and credentials themselves.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
proc_name = "sessions-api"
