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
- ``live``: gunicorn over a fresh SQLite database and its worker, as users meet them.
- ``browser``: Chromium through Playwright, and the pages it opens on a live service.
- ``node``: Node.js and the TypeScript client's tools.

Servers, ports, logs and PostgreSQL databases are in ``tests/servers.py``, the run's
names in ``tests/namespace.py`` (``bench/`` imports both).
"""
