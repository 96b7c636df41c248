"""WSGI entry point for gunicorn: ``gunicorn api_project.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")

application = get_wsgi_application()
