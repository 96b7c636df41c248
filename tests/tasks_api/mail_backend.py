"""A mail backend for the worker-kill tests: it logs each recipient and can hang.

A worker started with ``EMAIL_BACKEND=tests.tasks_api.mail_backend.LoggingBackend``
appends the recipients of every message it sends, one line each, to the file named by
``TESTS_MAIL_LOG`` (written through before ``send()`` returns, so a SIGKILL loses no
line). With ``TESTS_MAIL_HANG_AFTER=K`` it hangs before the message that would follow
the first K lines, as an SMTP server that stops answering would, and touches
``<log>.hung`` so the test knows it may kill the worker now.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

# Long enough for any test to kill the worker; short enough not to leave it hanging
# for ever should the test have failed first.
HANG_SECONDS = 120


class LoggingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        log = Path(os.environ["TESTS_MAIL_LOG"])
        hang_after = int(os.environ.get("TESTS_MAIL_HANG_AFTER") or 0)
        for message in email_messages:
            if hang_after and len(sent_to(log)) >= hang_after:
                log.with_suffix(".hung").touch()
                time.sleep(HANG_SECONDS)
            with log.open("a", encoding="utf-8") as file:
                file.write(",".join(message.to) + "\n")
                file.flush()
                os.fsync(file.fileno())
        return len(email_messages)


def sent_to(log: Path) -> list[str]:
    """The recipients logged so far, one entry per message sent."""
    if not log.exists():
        return []
    return log.read_text(encoding="utf-8").splitlines()
