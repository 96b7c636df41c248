"""gunicorn's configuration (api_project/gunicorn.conf.py) as gunicorn itself reads it.

The README: gunicorn reads ``GUNICORN_*`` and ``FORWARDED_ALLOW_IPS``, and a bad value
stops it with one line naming the variable. Each case runs the real gunicorn, which
must exit before it binds or forks anything.
"""

from __future__ import annotations

import pytest

from tests.servers import gunicorn_command
from tests.support.processes import run_clean


def _gunicorn(*args: str, **env: str):
    return run_clean([*gunicorn_command(0), *args, "api_project.wsgi:application"], **env)


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("GUNICORN_WORKERS", "abc", "GUNICORN_WORKERS='abc' is not a whole number."),
        ("GUNICORN_WORKERS", "0", "GUNICORN_WORKERS='0' must be at least 1."),
        ("GUNICORN_THREADS", "-2", "GUNICORN_THREADS='-2' must be at least 1."),
        ("GUNICORN_TIMEOUT", "1.5", "GUNICORN_TIMEOUT='1.5' is not a whole number."),
        (
            "GUNICORN_GRACEFUL_TIMEOUT",
            "soon",
            "GUNICORN_GRACEFUL_TIMEOUT='soon' is not a whole number.",
        ),
        ("GUNICORN_KEEPALIVE", "-1", "GUNICORN_KEEPALIVE='-1' must be at least 0."),
        ("GUNICORN_MAX_REQUESTS", "1e3", "GUNICORN_MAX_REQUESTS='1e3' is not a whole number."),
        (
            "GUNICORN_BIND",
            "0.0.0.0:99999",
            "GUNICORN_BIND='0.0.0.0:99999' is not HOST:PORT (for example 0.0.0.0:8000).",
        ),
        (
            "GUNICORN_LOG_LEVEL",
            "loud",
            "GUNICORN_LOG_LEVEL='loud' is not valid; use one of debug, info, warning, error, "
            "critical.",
        ),
        (
            "GUNICORN_WORKER_TMP_DIR",
            "/no/such/dir",
            "GUNICORN_WORKER_TMP_DIR='/no/such/dir' is not a directory.",
        ),
    ],
    ids=lambda value: str(value)[:24],
)
def test_a_bad_value_stops_gunicorn_with_one_line_naming_the_variable(name, value, line):
    result = _gunicorn(**{name: value})
    assert result.returncode == 1, (result.stdout, result.stderr)
    output = (result.stdout + result.stderr).strip().splitlines()
    assert output == [f"Configuration error: {line}"], output


def test_a_bad_forwarded_allow_ips_stops_gunicorn_with_one_line_naming_the_value():
    # gunicorn validates FORWARDED_ALLOW_IPS itself (it is its own setting's default)
    # before it reads the configuration file: its one line names the value only.
    result = _gunicorn(FORWARDED_ALLOW_IPS="10.0.0.1,proxy.local")
    assert result.returncode == 1, (result.stdout, result.stderr)
    output = (result.stdout + result.stderr).strip().splitlines()
    assert output == ["Error: 'proxy.local' does not appear to be an IPv4 or IPv6 address"]


@pytest.mark.parametrize(
    ("interface", "worker_class"),
    [
        # Threads size the pool that runs the synchronous requests inside uvicorn's worker.
        ("asgi", "api_project.asgi_worker.UvicornWorker"),
        ("wsgi", "gthread"),  # more than one thread
    ],
)
def test_good_values_are_what_gunicorn_runs_with(interface, worker_class):
    result = _gunicorn(
        "--print-config",
        GUNICORN_INTERFACE=interface,
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="0",
        GUNICORN_MAX_REQUESTS="500",
        FORWARDED_ALLOW_IPS="10.0.0.1,10.0.0.2",
    )
    assert result.returncode == 0, result.stderr
    config = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
    )
    assert config["workers"] == "3"
    assert config["threads"] == "4"
    assert config["worker_class"] == worker_class
    assert config["timeout"] == "0"
    assert config["max_requests"] == "500"
    assert config["forwarded_allow_ips"] == "['10.0.0.1', '10.0.0.2']"
