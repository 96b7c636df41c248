"""WSGI entry point for gunicorn: ``gunicorn api_project.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

from api_project.config import stop_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")

# 3 is gunicorn's "worker failed to boot": its master stops, instead of booting one
# worker after another into the same configuration error.
with stop_on_configuration_error(status=3):
    application = get_wsgi_application()
