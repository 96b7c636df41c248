"""ASGI entry point: what gunicorn serves (``api_project/gunicorn.conf.py`` names it).

    gunicorn -c api_project/gunicorn.conf.py --bind HOST:PORT --workers N

One application on one port: the event streams on Django's ASGI handler (their view is
asynchronous, so an open stream holds no thread), every other request on Django's WSGI
handler in a thread, as fast as under the sync worker (``api_project.serving``).
"""

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
    application = ApiApplication(
        streams=StreamHandler(),
        wsgi=WSGIHandler(),
        stream_paths=stream_paths(),
    )
