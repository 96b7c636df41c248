"""The console page hands the browser the server's rules instead of re-typing them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sessions_api.policy import KEY_NAME_SCHEMA, MAX_VALUE_DEPTH, limits
from tasks_api.conf import DEFAULTS as TASKS_DEFAULTS
from tasks_api.policy import FINAL_STATES
from tests.support.engines import any_engine

ROOT = Path(__file__).resolve().parents[2]
# The console's source (built into api_project/static/console/console.js) and its page.
CONSOLE_SOURCES = sorted((ROOT / "clients/typescript/console").glob("*.ts"))
TEMPLATE = ROOT / "api_project/templates/console.html"


def page_config(client) -> dict:
    response = client.get("/")
    assert response.status_code == 200
    match = re.search(
        rb'<script id="console-config" type="application/json">(.*?)</script>',
        response.content,
        re.S,
    )
    assert match, "the page carries its config as a JSON script"
    return json.loads(match.group(1))


@any_engine
def test_the_page_config_carries_the_rules_from_their_one_home(db, client, settings):
    settings.SESSION_API_MAX_KEYS = 7
    settings.TASKS_MAX_DELAY_SECONDS = 3600
    config = page_config(client)
    assert config["keyName"] == KEY_NAME_SCHEMA
    assert config["limits"] == limits() and config["limits"]["max_keys"] == 7
    assert config["limits"]["max_value_depth"] == MAX_VALUE_DEPTH
    assert config["tasks"]["final_states"] == sorted(FINAL_STATES)
    assert config["tasks"]["max_countdown_seconds"] == 3600


def test_the_console_does_not_retype_the_rules():
    assert CONSOLE_SOURCES, "no console source in clients/typescript/console/"
    for path in [*CONSOLE_SOURCES, TEMPLATE]:
        source = path.read_text(encoding="utf-8")
        assert KEY_NAME_SCHEMA["pattern"].strip("^$") not in source, path
        assert str(TASKS_DEFAULTS["TASKS_MAX_DELAY_SECONDS"]) not in source, path
        assert f'maxlength="{KEY_NAME_SCHEMA["maxLength"]}"' not in source, path
        # A list of the final states; single statuses are compared to the schema's
        # StatusEnum type, so a status the schema lacks does not compile.
        assert not re.search(r'"SUCCESS",\s*"FAILURE"', source), path
