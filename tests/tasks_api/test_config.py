"""The Celery configuration in effect, read back from the app (a misspelt setting is
silently ignored by Celery, so each reliability setting is asserted here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from celery.schedules import crontab
from django.conf import settings
from django_celery_results.backends import DatabaseBackend

from api_project.celery import app
from tasks_api import broker
from tasks_api.registry import REGISTRY
from tasks_api.results import ResultBackend
from tasks_api.runtime import RegisteredTask
from tests.support.processes import setting_in_fresh_process

BASE_DIR = Path(__file__).resolve().parents[2]


def test_messages_are_acknowledged_after_the_task_ran():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_each_worker_process_prefetches_one_message():
    assert app.conf.worker_prefetch_multiplier == 1


def test_publishes_wait_for_publisher_confirms():
    assert app.conf.broker_transport_options["confirm_publish"] is True


def test_tasks_have_soft_and_hard_time_limits_above_the_longest_type():
    soft, hard = app.conf.task_soft_time_limit, app.conf.task_time_limit
    assert soft is not None and hard is not None
    assert 600 < soft < hard  # demo.sleep may sleep 600 s


def test_started_is_tracked_and_startup_retries_the_broker():
    assert app.conf.task_track_started is True
    assert app.conf.broker_connection_retry_on_startup is True


def test_registered_types_store_started_themselves_once_claimed():
    # Celery's STARTED comes before the claim, and a second copy of a message would
    # overwrite the state of the first; RegisteredTask.before_start stores it instead.
    task = app.tasks["demo.add"]
    assert isinstance(task, RegisteredTask)
    assert task.track_started is False


def test_results_go_to_the_database_with_extended_fields():
    assert app.conf.result_backend == "tasks_api.results:ResultBackend"
    assert app.conf.result_extended is True
    assert isinstance(app.backend, ResultBackend)
    assert isinstance(app.backend, DatabaseBackend)
    # Records and results are pruned together (tasks_prune), not by Celery alone.
    assert app.conf.result_expires is None


def test_json_is_the_only_serializer():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]
    assert list(app.conf.result_accept_content) == ["json"]


def test_web_side_broker_waits_are_bounded_below_the_5_second_contract():
    # One connection attempt plus one publish confirm, each bounded: 503 within 5 s.
    assert app.conf.broker_connection_timeout + settings.TASKS_PUBLISH_TIMEOUT < 5


def test_beat_clears_expired_sessions_daily_without_django_celery_beat():
    entry = app.conf.beat_schedule["sessions.clear_expired"]
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {3}
    assert entry["task"] in app.tasks
    assert "django_celery_beat" not in settings.INSTALLED_APPS
    assert app.conf.beat_schedule["tasks.prune"]["task"] in app.tasks


def test_every_registered_type_is_a_celery_task_of_the_same_name():
    assert set(REGISTRY) <= set(app.tasks)
    assert set(REGISTRY) == {
        "demo.add",
        "demo.sleep",
        "demo.fail",
        "text.stats",
        "mail.send",
        "sessions.clear_expired",
    }


def test_readiness_includes_the_broker():
    from api_project import health

    assert health.check_broker is broker.check


def test_filesystem_broker_gets_its_folders_under_run(tmp_path):
    """The embedded broker of `make run`: kombu's filesystem transport under .run/.

    The settings make the folders when they are read, so they are read from a copy of
    the project package: the test leaves nothing in the checkout's .run/ (a
    developer's embedded broker, or another run's).
    """
    shutil.copytree(
        BASE_DIR / "api_project",
        tmp_path / "api_project",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
    )
    (tmp_path / "openapi").mkdir()
    shutil.copy(BASE_DIR / "openapi" / "description.md", tmp_path / "openapi")
    options = setting_in_fresh_process(
        "CELERY_BROKER_TRANSPORT_OPTIONS",
        cwd=tmp_path,
        # The copy's api_project comes first; the apps it composes from the checkout.
        PYTHONPATH=str(BASE_DIR),
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR="",  # the default folder
    )
    broker_dir = tmp_path / ".run" / "broker"
    assert options["data_folder_in"] == options["data_folder_out"] == str(broker_dir / "queue")
    assert options["control_folder"] == str(broker_dir / "control")  # revoke broadcasts
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        assert Path(options[key]).is_dir()
    assert "confirm_publish" not in options


def test_the_result_backend_check_wants_django_celery_results_database(monkeypatch):
    from tasks_api.checks import result_backend_check

    assert result_backend_check(None) == []
    monkeypatch.setitem(app.conf, "CELERY_RESULT_BACKEND", "django-db")
    assert result_backend_check(None) == []
    for other in ("rpc://", "redis://127.0.0.1:6379/0", None, "no-such-backend://"):
        monkeypatch.setitem(app.conf, "CELERY_RESULT_BACKEND", other)
        assert [error.id for error in result_backend_check(None)] == ["tasks_api.E001"], other


def test_the_enqueue_limits_are_read_from_the_environment():
    assert setting_in_fresh_process(
        "TASKS_DISABLED_TYPES", TASKS_DISABLED_TYPES="demo.sleep, demo.fail"
    ) == ["demo.sleep", "demo.fail"]
    assert (
        setting_in_fresh_process("TASKS_MAX_ACTIVE_PER_OWNER", TASKS_MAX_ACTIVE_PER_OWNER="5") == 5
    )
    assert (
        setting_in_fresh_process("TASKS_MAIL_DAILY_RECIPIENTS", TASKS_MAIL_DAILY_RECIPIENTS="7")
        == 7
    )
    assert (
        setting_in_fresh_process("TASKS_ENQUEUE_ADDRESS_RATE", TASKS_ENQUEUE_ADDRESS_RATE="9/min")
        == "9/min"
    )
    # Unset: the app's defaults.
    assert setting_in_fresh_process("TASKS_DISABLED_TYPES") == []
    assert setting_in_fresh_process("TASKS_MAX_ACTIVE_PER_OWNER") == 20
