"""The admin shows task records read-only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tasks_api.models import TaskOutbox, TaskRecord


@pytest.mark.django_db
def test_admin_lists_and_shows_task_records_read_only(admin_client):
    record = TaskRecord(name="demo.add", args={"a": 1, "b": 2}, owner_token="t")
    record.celery_result_id = str(record.pk)
    record.save()
    listed = admin_client.get("/admin/tasks_api/taskrecord/")
    assert listed.status_code == 200
    assert f"/admin/tasks_api/taskrecord/{record.pk}/change/" in listed.content.decode()
    page = admin_client.get(f"/admin/tasks_api/taskrecord/{record.pk}/change/")
    assert page.status_code == 200
    shown = page.content.decode()
    assert "demo.add" in shown and str(record.pk) in shown
    assert b'name="_save"' not in page.content  # no way to change it
    assert admin_client.get("/admin/tasks_api/taskrecord/add/").status_code == 403


@pytest.mark.django_db
def test_admin_lists_the_outbox_read_only(admin_client):
    record = TaskRecord(name="demo.add", args={"a": 1, "b": 2}, owner_token="t")
    record.celery_result_id = str(record.pk)
    record.save()
    TaskOutbox.objects.create(task=record, due_at=timezone.now(), attempts=2, last_error="refused")
    listed = admin_client.get("/admin/tasks_api/taskoutbox/")
    assert listed.status_code == 200
    assert "refused" in listed.content.decode()
    page = admin_client.get(f"/admin/tasks_api/taskoutbox/{record.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.get("/admin/tasks_api/taskoutbox/add/").status_code == 403
