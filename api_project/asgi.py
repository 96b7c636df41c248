"""ASGI entry point: what gunicorn serves (``api_project/gunicorn.conf.py`` names it).

    gunicorn -c api_project/gunicorn.conf.py --bind HOST:PORT --workers N

One application on one port: the event streams on Django's ASGI handler (their view is
asynchronous, so an open stream holds no thread), every other request on Django's WSGI
handler in a thread, as fast as under the sync worker (``api_project.serving``).
"""

import json
import os

import django
from django.core.handlers.wsgi import WSGIHandler
from django.urls import NoReverseMatch, reverse

from api_project.config import stop_on_configuration_error
from api_project.serving import ApiApplication, StreamHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")


def stream_paths() -> list[str]:
    """The paths of the event streams (none under a URLconf without them, such as the
    benchmark's bare Django baseline)."""
    try:
        return [reverse("events")]
    except NoReverseMatch:
        return []


# 3 is gunicorn's "worker failed to boot" (see api_project/wsgi.py).
with stop_on_configuration_error(status=3):
    django.setup(set_prefix=False)

# DRF reads the settings as it is imported, so these come once they are set up (the
# usual order of a Django ASGI module).
from rest_framework.exceptions import ParseError  # noqa: E402

from sessions_api.problems import problem_from_exception  # noqa: E402

UNPARSABLE = ParseError(
    "The request is not valid HTTP (for example, a header holds a character that HTTP "
    "does not allow), so it was not read."
)

with stop_on_configuration_error(status=3):
    application = ApiApplication(
        streams=StreamHandler(),
        wsgi=WSGIHandler(),
        stream_paths=stream_paths(),
        unparsable=json.dumps(problem_from_exception(UNPARSABLE)).encode(),
    )
