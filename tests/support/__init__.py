"""What the tests share, in one place (fixtures stay in the conftest files).

- ``clients``: the CSRF-aware in-process client, the run's cache cleaner, ``need``.
- ``engines``: the five session engines and the ``engines(...)`` marker's selection.
- ``api``: the API's paths and the steps every test takes (log in, list the keys).
- ``problems``: the problem+json assertion.
- ``sessions``: reading a session's store directly.
- ``workers``: the killable Celery worker, the task helpers, the run's queues.
- ``polling``: waiting until a task reaches a state.
- ``processes``: a setting or a command in a fresh Python process.
- ``csp``: the HTML pages and the Content-Security-Policy parser.

Servers, ports, logs and PostgreSQL databases are in ``tests/servers.py``, the run's
names in ``tests/namespace.py`` (``bench/`` imports both).
"""
