"""A private RabbitMQ node for a test that stops and restarts its broker.

The shared RabbitMQ on 127.0.0.1:5672 serves every test run on this machine, so no test
may stop it. ``PrivateRabbitMQ`` runs the installed ``rabbitmq-server`` as a node of its
own: its own node name, AMQP and distribution ports, data (Mnesia) and log folders and
Erlang cookie under a temporary folder, no plugins. Its data survives ``stop()`` and
``start()``, as a real broker's does across a restart: durable queues and persistent
messages come back. A first boot takes about 12 s here, a restart about 7 s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.namespace import LOG_DIR, RUN_ID, reachable
from tests.servers import free_port, start_process

# The scripts themselves: the /usr/sbin wrappers switch to the rabbitmq user, who may
# not write to the test's temporary folder.
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


def private_rabbitmq_available() -> bool:
    return (RABBITMQ_BIN / "rabbitmq-server").exists() and shutil.which("erl") is not None


class PrivateRabbitMQ:
    """One RabbitMQ node of the test, started, stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"tests-{RUN_ID}-{uuid.uuid4().hex[:6]}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        for name in ("mnesia", "log"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (folder / "rabbitmq-env.conf").write_text("")
        (folder / "enabled_plugins").write_text("[].\n")

    def env(self) -> dict[str, str]:
        folder = self.folder
        return {
            **os.environ,
            "HOME": str(folder),  # the Erlang cookie, shared by the server and its CLI
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(folder / "rabbitmq.pid"),
            "ERL_CRASH_DUMP": str(folder / "erl_crash.dump"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self, timeout: float = 90.0) -> None:
        self.starts += 1
        log = LOG_DIR / f"rabbitmq-{self.port}-{self.starts}.log"
        self.process = start_process(
            [str(RABBITMQ_BIN / "rabbitmq-server")],
            env=self.env(),
            log=log,
            new_session=True,
            cwd=self.folder,
        )
        deadline = time.monotonic() + timeout
        while not reachable("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"RabbitMQ did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)

    def stop(self) -> None:
        """A clean shutdown, as ``systemctl restart`` does: clients see their
        connections close, and the node's data stays."""
        if self.process is None:
            return
        subprocess.run(
            [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, "shutdown"],
            env=self.env(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_rabbitmq(folder: Path) -> Iterator[PrivateRabbitMQ]:
    """A started private node; stopped (killed, at worst) when the block ends."""
    node = PrivateRabbitMQ(folder)
    node.start()
    try:
        yield node
    finally:
        node.stop()
        node.kill()
