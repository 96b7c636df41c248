"""Asynchronous jobs over Celery and RabbitMQ, owned by their caller."""
