"""Composition root: settings, URLs, the Celery app, error rendering and probes."""

from api_project.celery import app as celery_app

__all__ = ("celery_app",)
