"""A mail.send SIGKILLed mid-send sends no recipient twice when its message comes back
(late acks) and another worker runs it again (integration: real RabbitMQ, real worker
processes; the workers of this module only, so no other worker takes the task)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.polling import poll, wait_for
from tests.support.workers import enqueue
from tests.tasks_api.mail_backend import sent_to

pytestmark = pytest.mark.integration


RECIPIENTS = [f"r{n}@example.com" for n in range(1, 7)]
SENT_BEFORE_KILL = 2


def test_mail_send_killed_mid_send_sends_no_recipient_twice(user_api, worker_factory, tmp_path):
    log = tmp_path / "sent.log"
    mail_env = {
        "EMAIL_URL": "",  # the backend below, not the fixture's file backend
        "EMAIL_BACKEND": "tests.tasks_api.mail_backend.LoggingBackend",
        "TESTS_MAIL_LOG": str(log),
    }
    client = user_api()
    args = {"to": RECIPIENTS, "subject": "Hi", "body": "Hello."}
    response = enqueue(client, "mail.send", args)
    assert response.status_code == 202, response.content
    task_id = response.json()["id"]

    # The first worker sends two messages, then hangs in the third send (its recipient
    # claimed, no message out) and is SIGKILLed there with its pool.
    hanging = worker_factory(
        concurrency=1, extra_env={**mail_env, "TESTS_MAIL_HANG_AFTER": str(SENT_BEFORE_KILL)}
    )
    hanging.start()
    poll(
        log.with_suffix(".hung").exists,
        timeout=30,
        interval=0.05,
        what=lambda: f"the worker never sent:\n{hanging.log()[-3000:]}",
    )
    hanging.kill()
    assert sent_to(log) == RECIPIENTS[:SENT_BEFORE_KILL]

    # The message comes back (late ack) and a second worker runs the task again.
    worker = worker_factory(concurrency=1, extra_env=mail_env)
    worker.start()
    done = wait_for(client, task_id, timeout=60)
    sent = sent_to(log)
    print(f"\nmail.send SIGKILLed after {SENT_BEFORE_KILL} of {len(RECIPIENTS)}: sent {sent}")
    assert done["status"] == "SUCCESS", done
    assert f"mail.send[{task_id}] received" in worker.log()  # the redelivery ran here
    assert max(Counter(sent).values()) == 1  # no recipient twice
    # The one whose send the kill interrupted is lost, not sent again: at most once.
    lost = RECIPIENTS[SENT_BEFORE_KILL]
    assert sent == [r for r in RECIPIENTS if r != lost]
    assert done["result"] == {"sent": len(RECIPIENTS) - 1}
