"""Writes what ``bench/run.py`` measured: ``results.md``, ``results.json``, ``ratios.png``.

Kept apart from the measuring so the report can be rewritten from a saved
``results.json`` without running anything again::

    python bench/report.py bench/results.json     # rewrites results.md and ratios.png
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

OP_LABELS = {"get_key": "GET key", "put_key": "PUT key", "get_session": "GET session"}
# Issue 7's targets (figures for the report, not assertions).
RATIO_TARGET = 0.8  # API ÷ bare Django, requests/s, for TARGET_OPS on every engine
TARGET_OPS = ("get_key", "put_key")
# At the large session, a read on the service's store costs no more than Django's own
# load: store ÷ Django, requests/s, for READ_OPS at LARGE_SEED, at least.
STORE_READ_TARGET = 0.95
READ_OPS = ("get_key",)
LARGE_SEED = "48k"
SMALL_LABEL = "4 small keys"  # results written before the session-size axis had one size
MEMORY_GROWTH_MB = 5.0  # worker RSS growth over 20,000 requests, at most
ENQUEUE_RATIO = 0.5  # POST /api/v1/tasks/ ÷ raw apply_async loop, at least
ENQUEUE_DJANGO_RATIO = 0.8  # POST /api/v1/tasks/ ÷ a bare Django view's apply_async, at least
ENQUEUE_FLOWER_RATIO = 1.0  # POST /api/v1/tasks/ ÷ Flower's send-task, more than (ahead of it)
LATENCY_RATIO = 2.0  # enqueue-to-SUCCESS p50, API ÷ raw round trip, at most
INTERFACE_RATIO = 0.9  # ASGI ÷ gunicorn's sync worker, requests/s, at least


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float, target: float = RATIO_TARGET) -> str:
    """Two decimals, or three where two would round onto the target and hide a miss."""
    text = f"{value:.2f}"
    if float(text) == target and value != target:
        text = f"{value:.3f}"
    return text


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(data: dict[str, Any]) -> str:
    machine, options = data["machine"], data["options"]
    out: list[str] = ["# Benchmarks: the API beside a bare Django baseline", ""]
    kind = "full run" if options.get("full") else "partial run"
    out += [
        f"Measured {data['started']} by `make bench` (`bench/run.py`, {kind}, "
        f"{data['seconds'] / 60:.1f} min). Regenerate with `make bench`; method and "
        "caveats below the tables.",
        "",
        _machine_line(machine),
        "",
    ]
    out += _sessions(data)
    out += _split(data)
    out += _sizes(data)
    out += _queries(data)
    out += _memory(data)
    out += _tasks(data)
    out += _interface(data)
    out += _events(data)
    out += _targets(data)
    out += _method(data)
    return "\n".join(out).rstrip() + "\n"


def _machine_line(m: dict[str, Any]) -> str:
    servers = ", ".join(
        f"{name} {m[key]}"
        for name, key in (
            ("SQLite", "sqlite"),
            ("PostgreSQL", "postgresql"),
            ("Redis", "redis"),
            ("RabbitMQ", "rabbitmq"),
        )
        if m.get(key)
    )
    return (
        f"**Machine**: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gb']} GB; load average "
        f"at start {', '.join(str(x) for x in m['load_average_at_start'])} (the machine is "
        f"shared). **Versions**: Python {m['python']}, Django {m['django']}, DRF "
        f"{m['djangorestframework']}, gunicorn {m['gunicorn']}, Celery {m['celery']}, kombu "
        f"{m['kombu']}; {servers}; {m['wrk']}."
    )


def _serving(data: dict[str, Any], *, short: bool = False) -> str:
    """The run's serving model; a results.json from before it was recorded ran the sync worker."""
    model = data["options"].get("serving_model", "wsgi")
    if short:
        return "ASGI" if model == "asgi" else "sync"
    if model == "asgi":
        return "uvicorn's ASGI worker, the default"
    return "gunicorn's sync worker"


def _sessions(data: dict[str, Any]) -> list[str]:
    opts = data["options"]
    out = [
        "## Sessions: API beside bare Django, per engine",
        "",
        f"Requests/s and latency: median of {opts['rounds']} rounds x {opts['seconds']:g} s, "
        f"wrk with {opts['connections']} connections against one gunicorn worker, "
        f"{_serving(data)} "
        "(so p50 includes waiting behind the other connection's request). "
        "API ÷ Django is the median of the per-round ratios of requests/s. The last column "
        "is the gunicorn worker's own CPU time per request (user + system, from /proc), "
        "with the same ratio in CPU terms: steadier on a shared machine, but blind to the "
        "time spent waiting on PostgreSQL or Redis.",
        "",
    ]
    header = [
        "engine",
        "session",
        "operation",
        "Django req/s",
        "p50 ms",
        "p99 ms",
        "API req/s",
        "p50 ms",
        "p99 ms",
        "API ÷ Django",
        "worker CPU µs/req, Django → API",
    ]
    rows = []
    for engine in data["sessions"].values():
        for op, row in engine["ops"].items():
            d, a = row["django"], row["api"]
            ratio = a["ratio"]
            flag = ""
            if op in TARGET_OPS:
                flag = " " + _mark(ratio >= RATIO_TARGET)
            first = op == next(iter(engine["ops"]))
            rows.append(
                [
                    engine["label"] if first else "",
                    _session(engine) if first else "",
                    OP_LABELS[op],
                    _num(d["rps"]),
                    _num(d["p50_ms"], 2),
                    _num(d["p99_ms"], 2),
                    _num(a["rps"]),
                    _num(a["p50_ms"], 2),
                    _num(a["p99_ms"], 2),
                    f"**{_ratio(ratio)}**{flag}",
                    f"{_num(d['cpu_us'])} → {_num(a['cpu_us'])} ({a['cpu_ratio']:.2f})",
                ]
            )
    if not rows:
        return [*out[:2], "Not measured in this run.", ""]
    for engine_id, reason in data["skipped"].items():
        if engine_id != "tasks":
            rows.append([engine_id, "", "-", reason, "", "", "", "", "", "", ""])
    out += _table(header, rows, "lllrrrrrrrr")
    out += ["", "![API ÷ bare Django per engine](ratios.png)", ""]
    return out


def _split(data: dict[str, Any]) -> list[str]:
    rows = []
    for engine in data["sessions"].values():
        for op, row in engine["ops"].items():
            if "store" not in row:
                continue
            d, s, a = row["django"], row["store"], row["api"]
            rows.append(
                [
                    engine["label"],
                    _session(engine),
                    OP_LABELS[op],
                    f"{_num(d['rps'])} / {_num(s['rps'])} / {_num(a['rps'])}",
                    f"{_num(d['cpu_us'])} / {_num(s['cpu_us'])} / {_num(a['cpu_us'])}",
                    f"{s['ratio']:.2f}",
                    f"{a['rps'] / s['rps']:.2f}",
                    _ratio(a["ratio"]),
                ]
            )
    if not rows:
        return []
    out = [
        "### Where the API's cost comes from: the session store, then the view layer",
        "",
        "*store* = the same plain Django views on the service's session store "
        "(`sessions_api.engines.*`: server-side expiry stamp; a save is a compare-and-set, "
        "and only when another request wrote in between a locked read of the stored "
        "session that the changes are merged onto, so concurrent requests lose no "
        "update). *store ÷ Django* prices the store; *API ÷ store* prices the "
        "DRF view layer, validation and limits; their product is about *API ÷ Django*.",
        "",
    ]
    out += _table(
        [
            "engine",
            "session",
            "operation",
            "req/s: Django / store / API",
            "worker CPU µs/req: Django / store / API",
            "store ÷ Django",
            "API ÷ store",
            "API ÷ Django",
        ],
        rows,
        "lllrrrrr",
    )
    return [*out, ""]


def _session(entry: dict[str, Any]) -> str:
    """The session size an entry was measured at (older results: the small seed)."""
    label = entry.get("session", SMALL_LABEL)
    size = entry.get("session_bytes")
    return f"{label} ({size / 1000:.1f} kB)" if size and size >= 1000 else label


def _sizes(data: dict[str, Any]) -> list[str]:
    """Each engine's ratios at both session sizes side by side (from the tables above)."""
    by_engine: dict[str, dict[str, Any]] = {}
    for entry in data["sessions"].values():
        by_engine.setdefault(entry.get("engine", entry["label"]), {})[
            entry.get("seed", "small")
        ] = entry
    rows = []
    for entries in by_engine.values():
        small, large = entries.get("small"), entries.get(LARGE_SEED)
        if large is None:
            continue
        for op in TARGET_OPS:
            big = large["ops"].get(op)
            if big is None:
                continue
            before = small["ops"].get(op) if small else None
            store = big.get("store")
            read = op in READ_OPS
            rows.append(
                [
                    large["label"],
                    OP_LABELS[op],
                    _ratio(before["api"]["ratio"]) if before else "-",
                    f"{_ratio(big['api']['ratio'])} {_mark(big['api']['ratio'] >= RATIO_TARGET)}",
                    (
                        f"{store['ratio']:.2f}"
                        + (f" {_mark(store['ratio'] >= STORE_READ_TARGET)}" if read else "")
                        if store
                        else "-"
                    ),
                    f"{big['api']['rps'] / store['rps']:.2f}" if store else "-",
                ]
            )
    if not rows:
        return []
    out = [
        "### The same at a larger session",
        "",
        f"Each server-side engine again with every client's session at ~48 KB (the same "
        f"four keys plus twelve 4 KB values), on the same servers in the same run. The "
        f"targets: API ÷ Django ≥ {RATIO_TARGET} at both sizes, and on a read the "
        f"service's store costs no more than Django's own load (store ÷ Django ≥ "
        f"{STORE_READ_TARGET}).",
        "",
    ]
    out += _table(
        [
            "engine",
            "operation",
            "API ÷ Django, 4 small keys",
            "at ~48 KB",
            "store ÷ Django at ~48 KB",
            "API ÷ store at ~48 KB",
        ],
        rows,
        "llrrrr",
    )
    return [*out, ""]


def _queries(data: dict[str, Any]) -> list[str]:
    if not data["queries"]:
        return []
    out = [
        "## Round trips per request",
        "",
        "SQL statements (as Django executes them: `BEGIN`, `SAVEPOINT` and `RELEASE` "
        "count, `COMMIT` does not) and Redis commands of one warm request, counted "
        "in-process by `bench/probe.py`. Cells read SQL + Redis.",
        "",
    ]
    rows = []
    for engine_id, by_variant in data["queries"].items():
        label = data["sessions"].get(engine_id, {}).get("label", engine_id)
        for op in OP_LABELS:
            cells = []
            for variant in ("django", "store", "api"):
                counts = by_variant.get(variant, {}).get(op)
                cells.append(f"{counts['sql']} + {counts['redis']}" if counts else "-")
            if any(c != "-" for c in cells):
                rows.append([label, OP_LABELS[op], *cells])
    out += _table(["engine", "operation", "Django", "store", "API"], rows, "llrrr")
    out += [
        "",
        "What the service's store sends on a PUT that Django's does not (the "
        "compare-and-set in place of Django's plain write), as executed:",
        "",
    ]
    for engine_id, by_variant in data["queries"].items():
        django = by_variant.get("django", {}).get("put_key")
        store = by_variant.get("store", {}).get("put_key")
        if not django or not store:
            continue
        label = data["sessions"].get(engine_id, {}).get("label", engine_id)
        extra_sql = _extra(django["statements"], store["statements"])
        extra_redis = _extra(django["commands"], store["commands"])
        if extra_sql or extra_redis:
            parts = [f"`{_short(s)}`" for s in extra_sql] + [f"Redis `{c}`" for c in extra_redis]
            out.append(f"- **{label}**: " + "; ".join(parts))
        else:
            out.append(f"- **{label}**: nothing beyond Django's own statements")
    return [*out, ""]


def _extra(mine: list[str], theirs: list[str]) -> list[str]:
    """What ``theirs`` runs beyond ``mine`` (a multiset difference, in order)."""
    left = list(mine)
    extra = []
    for item in theirs:
        normal = _normal(item)
        match = next((i for i, m in enumerate(left) if _normal(m) == normal), None)
        if match is None:
            extra.append(item)
        else:
            left.pop(match)
    return extra


def _normal(statement: str) -> str:
    import re

    return re.sub(r'"s\d+_x\d+"', '"sp"', statement)


def _short(statement: str) -> str:
    import re

    statement = re.sub(r'"s\d+_x\d+"', "…", statement)
    statement = re.sub(r'"django_session"\.', "", statement)
    return statement if len(statement) <= 90 else statement[:87] + "…"


def _memory(data: dict[str, Any]) -> list[str]:
    m = data["memory"]
    if not m:
        return []
    ok = m["growth_mb"] < MEMORY_GROWTH_MB
    return [
        "## Memory",
        "",
        *_table(
            ["server", "requests", "RSS after warm-up", "RSS after", "growth", "target < 5 MB"],
            [
                [
                    f"API worker, {m['engine']}",
                    f"{m['requests']:,}",
                    f"{m['rss_before_mb']:.1f} MB",
                    f"{m['rss_after_mb']:.1f} MB",
                    f"{m['growth_mb']:+.2f} MB",
                    _mark(ok),
                ]
            ],
            "lrrrrl",
        ),
        "",
        f"Load: {m['mix']}, {m['seconds']:.0f} s.",
        "",
    ]


def _enqueue_peers(e: dict[str, Any]) -> list[tuple[str, str, str, float, str]]:
    """The enqueue peers a run measured: label, keys of its rate and of API ÷ it, target.

    Older results have only the first, or the first two.
    """
    flower = e.get("flower", {}).get("version", "")
    peers = [
        ("raw apply_async loop (publisher confirms on)", "raw_rps", "ratio", ENQUEUE_RATIO, "≥"),
        (
            "bare Django view doing apply_async",
            "django_rps",
            "ratio_django",
            ENQUEUE_DJANGO_RATIO,
            "≥",
        ),
        (f"Flower {flower} send-task", "flower_rps", "ratio_flower", ENQUEUE_FLOWER_RATIO, ">"),
    ]
    return [peer for peer in peers if peer[1] in e]


def _meets(value: float, target: float, relation: str) -> bool:
    return value > target if relation == ">" else value >= target


def _tasks(data: dict[str, Any]) -> list[str]:
    out = ["## Tasks", ""]
    if "tasks" in data["skipped"]:
        return [*out, data["skipped"]["tasks"] + ".", ""]
    t = data["tasks"]
    if not t:
        return []
    e, lat = t["enqueue"], t["latency"]
    out += _table(
        ["measure", "peer", "API", "API vs peer", "target"],
        [
            *(
                [
                    f"enqueue, tasks/s: {label}",
                    _num(e[rate]),
                    _num(e["api_rps"]),
                    f"{_ratio(e[ratio], target)}x",
                    f"{relation} {target:g}x {_mark(_meets(e[ratio], target, relation))}",
                ]
                for label, rate, ratio, target, relation in _enqueue_peers(e)
            ),
            [
                "enqueue → SUCCESS, p50 ms: raw apply_async().get()",
                _num(lat["raw_p50_ms"], 1),
                _num(lat["api_p50_ms"], 1),
                f"{lat['ratio_p50']:.2f}x",
                f"≤ {LATENCY_RATIO:g}x {_mark(lat['ratio_p50'] <= LATENCY_RATIO)}",
            ],
            [
                "enqueue → SUCCESS, p99 ms: raw apply_async().get()",
                _num(lat["raw_p99_ms"], 1),
                _num(lat["api_p99_ms"], 1),
                f"{lat['api_p99_ms'] / lat['raw_p99_ms']:.2f}x",
                "",
            ],
        ],
        "lrrrl",
    )
    out += [
        "",
        "Raw Celery: `demo.add.apply_async()` in a loop from one process (the same task, "
        "queue, broker and publisher-confirm setting as the API), and "
        "`bench.add.apply_async().get()` (a plain task doing the same sum: `demo.add` "
        "runs only for a task record the API wrote). API: `POST /api/v1/tasks/` under wrk; "
        f"then `POST` and `GET /api/v1/tasks/{{id}}/` every {lat['poll_interval_ms']:g} ms "
        f"until `SUCCESS`, as `get()` polls the result backend. {lat['samples_each']} round "
        "trips each, one worker process, django-celery-results on SQLite, no worker running "
        "during the enqueue measurement. The bare Django view: `bench.add.apply_async()` "
        "in a plain function view (bench/baseline_urls.py) under the same middleware, "
        "gunicorn configuration and broker settings, with no task record and no outbox.",
        "",
    ]
    if "flower_rps" in e:
        out += [
            "Flower: one Tornado process of its own, pinned to the servers' core, running "
            f"the service's Celery app (`{e['flower']['celery_app']}`: same broker, queue "
            "and publisher confirms) with the result backend disabled (the service's "
            "django-celery-results cannot be queried from Flower's event loop); wrk posts "
            '`{"kwargs": {"a": 1, "b": 2}}` to `/api/task/send-task/demo.add`, no '
            "authentication (`FLOWER_UNAUTHENTICATED_API`). API ÷ Flower per round: "
            + ", ".join(f"{_ratio(r, ENQUEUE_FLOWER_RATIO)}x" for r in e["rounds_ratio_flower"])
            + ". After every run of every side the queue must hold at least as many "
            "messages as that side answered for.",
            "",
        ]
    if "api_cpu_us" in e:
        out += [
            "The web process's CPU time per enqueue (user + system, from /proc; the API's "
            "includes its fast-path thread, which publishes after the answer): API "
            f"{e['api_cpu_us']:.0f} µs, bare Django view {e['django_cpu_us']:.0f} µs "
            f"(API ÷ view in CPU terms {e['django_cpu_us'] / e['api_cpu_us']:.2f}x). "
            "Each run of the API is a new anonymous owner's: nothing runs the tasks of "
            "these rounds, and an owner's unfinished tasks are counted on each enqueue.",
            "",
        ]
    relay = t.get("relay")
    if relay:
        out += [
            f"Outbox relay: a backlog of {relay['backlog']:,} due messages published with "
            f"publisher confirms and marked sent in {relay['seconds']:.1f} s, "
            f"{relay['messages_per_second']:.0f} messages/s (one `manage.py tasks_relay`, "
            "batches of 100, its start included).",
            "",
        ]
    return out


def _interface(data: dict[str, Any]) -> list[str]:
    engines = data.get("interface") or {}
    if not engines:
        return []
    out = ["## Serving models: the sync API under ASGI and under gunicorn's sync worker", ""]
    rows = []
    for entry in engines.values():
        for op, row in entry["ops"].items():
            wsgi, asgi = row["wsgi"], row["asgi"]
            rows.append(
                [
                    entry["label"],
                    OP_LABELS[op],
                    _num(wsgi["rps"]),
                    _num(asgi["rps"]),
                    f"**{asgi['ratio']:.2f}** {_mark(asgi['ratio'] >= INTERFACE_RATIO)}",
                    f"{_num(wsgi['cpu_us'])} → {_num(asgi['cpu_us'])} ({asgi['cpu_ratio']:.2f})",
                    ", ".join(f"{r:.2f}" for r in asgi["rounds_ratio"]),
                ]
            )
    out += _table(
        [
            "engine",
            "operation",
            "sync req/s",
            "ASGI req/s",
            "ASGI ÷ sync",
            "worker CPU µs/req, sync → ASGI",
            "per round",
        ],
        rows,
        "llrrrrl",
    )
    out += [
        "",
        "The same API server twice, side by side on core 0: `GUNICORN_INTERFACE=asgi` (the "
        "default: uvicorn's worker, every request but the event streams through Django's "
        "WSGI handler in one pool thread) and `GUNICORN_INTERFACE=wsgi` (gunicorn's sync "
        "worker); wrk as for the sessions table, small sessions, rounds alternating the "
        f"order. Target: ASGI ≥ {INTERFACE_RATIO}x the sync worker's requests/s "
        "(`bench/interface.py`). The sessions table above runs under the serving model "
        "of the run (ASGI unless `BENCH_GUNICORN_INTERFACE=wsgi`). Measured in the run of "
        "the live events below (`bench/run.py --sections interface,events` runs both alone).",
        "",
    ]
    return out


def _events(data: dict[str, Any]) -> list[str]:
    out = ["## Live events", ""]
    if "events" in data["skipped"]:
        return [*out, data["skipped"]["events"] + ".", ""]
    ev = data.get("events") or {}
    if not ev:
        return []
    idle, live, targets = ev["idle"], ev["live"], ev["targets"]
    stream, poll = live["stream"], live["poll"]
    lat, pub = stream["latency_ms"], stream["publish_ms"]
    expected = live["tasks"] * live["report_rate"]
    out += [
        f"Measured {ev['started']} (`bench/events.py`), load average at start "
        f"{', '.join(str(x) for x in ev['load_average_at_start'])} on 2 CPUs (the machine "
        "is shared with other work: these figures are noisy, one run each).",
        "",
    ]
    out += _table(
        ["measure", "figure", "target"],
        [
            [
                f"RSS per idle stream ({idle['streams']:,} open on one worker)",
                f"{idle['rss_per_stream_kb']:.1f} KB ({idle['rss_before_mb']:.1f} → "
                f"{idle['rss_open_mb']:.1f} MB)",
                f"< {targets['rss_per_stream_kb']} KB "
                f"{_mark(idle['rss_per_stream_kb'] < targets['rss_per_stream_kb'])}",
            ],
            [
                f"CPU of that worker, {idle['idle_seconds']:.0f} s idle (heartbeats only)",
                f"{idle['idle_cpu_percent']:.2f} % of a core "
                f"({idle['heartbeats']:,} heartbeats received)",
                f"< {targets['idle_cpu_percent']} % "
                f"{_mark(idle['idle_cpu_percent'] < targets['idle_cpu_percent'])}",
            ],
            [
                "progress report → event at the client, p50",
                f"{lat['p50']:.1f} ms",
                f"≤ {targets['latency_p50_ms']} ms "
                f"{_mark(lat['p50'] <= targets['latency_p50_ms'])}",
            ],
            [
                "progress report → event at the client, p99",
                f"{lat['p99']:.1f} ms",
                f"≤ {targets['latency_p99_ms']} ms "
                f"{_mark(lat['p99'] <= targets['latency_p99_ms'])}",
            ],
            [
                "Redis publish (the event's id) → client, p50 / p99",
                f"{pub['p50']:.1f} / {pub['p99']:.1f} ms",
                "",
            ],
            [
                "progress reports made, per second",
                f"{stream['publisher']['rate']:,.0f} of {expected:,.0f} asked "
                f"({stream['counts']['events'] / stream['seconds']:,.0f} events/s delivered)",
                "",
            ],
        ],
        "lrl",
    )
    out += ["", f"The same {live['streams']:,} clients, streaming or polling:", ""]
    rows = []
    for name, run in (("streams", stream), (f"polling every {live['poll_interval']:g} s", poll)):
        arrival = run["latency_ms"] if run is stream else run["age_at_arrival_ms"]
        shown = run["shown_age_ms"]
        rows.append(
            [
                name,
                f"{run['cpu_percent']:.1f} %",
                f"{arrival['p50']:,.0f} / {arrival['p99']:,.0f}",
                f"{shown['mean']:,.0f} / {shown['p99']:,.0f}",
                (
                    f"{run['counts']['polls'] / run['seconds']:,.0f} polls/s "
                    f"({run['counts']['late_polls']:,} a whole interval late), answer p50 "
                    f"{run['response_ms']['p50']:,.0f} ms"
                    if run is poll
                    else f"{run['counts']['events'] / run['seconds']:,.0f} events/s"
                ),
                f"{run['publisher']['rate']:,.0f}/s",
            ]
        )
    out += _table(
        [
            "clients",
            "web worker CPU (of a core)",
            "age at arrival p50 / p99 ms",
            "shown age mean / p99 ms",
            "answered",
            "reports made",
        ],
        rows,
        "lrrrll",
    )
    out += [
        "",
        f"Polling ÷ streaming, web worker CPU: **{live['cpu_ratio_poll_to_stream']:.2f}x**.",
        "",
        "How: one ASGI worker pinned to core 0; the clients (one process, raw asyncio "
        "sockets on uvloop), the progress reports and the benchmark on core 1. Idle: each "
        "stream's first request gets its own anonymous session; RSS (/proc) after a warm-up "
        "of 50 streams opened and closed, then with all open; CPU = the worker's user + "
        "system time over the idle window. Delivery: "
        f"{live['tasks']} anonymous sessions, each with one task queued through the API "
        f"(nothing consumes the queue), {live['streams_per_session']} streams per session "
        f"(`EVENTS_MAX_STREAMS_PER_SESSION={live['streams_per_session']}` on that server "
        "only); the reports are the worker's own `report_progress` (result backend write, "
        "re-read, XADD + PUBLISH), each with `time.time()` in its message, compared with "
        "`time.time()` at arrival (same machine, same clock); *Redis publish → client* "
        "uses the event id's `XADD` milliseconds instead. Reports run flat out when they "
        "cannot keep up, so *reports made* says how much load there really was. Shown age: "
        "now minus the stamp of the newest state a client holds, sampled per client at random "
        f"moments ~10 times a second. Windows of {live['seconds']} s after 5 s of load; "
        "a non-200, a stream that ends or an `error` event fails the run "
        '(`bench/README.md`, "Live events").',
        "",
    ]
    return out


def _targets(data: dict[str, Any]) -> list[str]:
    out = ["## Targets", ""]
    misses = []
    for engine in data["sessions"].values():
        for op in TARGET_OPS:
            row = engine["ops"].get(op)
            if row and row["api"]["ratio"] < RATIO_TARGET:
                misses.append(
                    f"{engine['label']} ({_session(engine)}) {OP_LABELS[op]}: "
                    f"{_ratio(row['api']['ratio'])} "
                    f"({RATIO_TARGET - row['api']['ratio']:.3f} short)"
                )
    measured = sum(1 for e in data["sessions"].values() for op in TARGET_OPS if op in e["ops"])
    if measured:
        out.append(
            f"- API ÷ bare Django ≥ {RATIO_TARGET} for GET key and PUT key, at every "
            f"session size: {measured - len(misses)} of {measured} met"
            + (f"; missed: {'; '.join(misses)}." if misses else ". ✅")
        )
    reads = [
        (engine, engine["ops"][op])
        for engine in data["sessions"].values()
        if engine.get("seed") == LARGE_SEED
        for op in READ_OPS
        if op in engine["ops"] and "store" in engine["ops"][op]
    ]
    if reads:
        slow = [
            f"{engine['label']}: {row['store']['ratio']:.2f}"
            for engine, row in reads
            if row["store"]["ratio"] < STORE_READ_TARGET
        ]
        out.append(
            f"- store ÷ bare Django ≥ {STORE_READ_TARGET} for GET key at ~48 KB: "
            f"{len(reads) - len(slow)} of {len(reads)} met"
            + (f"; missed: {'; '.join(slow)}." if slow else ". ✅")
        )
    if data["memory"]:
        growth = data["memory"]["growth_mb"]
        out.append(
            f"- Worker RSS growth over {data['memory']['requests']:,} requests < "
            f"{MEMORY_GROWTH_MB:g} MB: {growth:+.2f} MB {_mark(growth < MEMORY_GROWTH_MB)}"
        )
    if data["tasks"]:
        e, lat = data["tasks"]["enqueue"], data["tasks"]["latency"]
        out.append(
            f"- Enqueue ≥ {ENQUEUE_RATIO}x the raw publish rate: {e['ratio']:.2f}x "
            f"{_mark(e['ratio'] >= ENQUEUE_RATIO)}"
        )
        if "ratio_django" in e:
            out.append(
                f"- Enqueue ≥ {ENQUEUE_DJANGO_RATIO}x a bare Django view doing apply_async: "
                f"{e['ratio_django']:.2f}x {_mark(e['ratio_django'] >= ENQUEUE_DJANGO_RATIO)}"
            )
        if "flower_rps" in e:
            out.append(
                "- Enqueue ahead of Flower's task API (API ÷ Flower send-task > "
                f"{ENQUEUE_FLOWER_RATIO:g}): {_ratio(e['ratio_flower'], ENQUEUE_FLOWER_RATIO)}x "
                f"{_mark(e['ratio_flower'] > ENQUEUE_FLOWER_RATIO)}"
            )
        out.append(
            f"- Enqueue-to-SUCCESS p50 ≤ {LATENCY_RATIO:g}x the raw round trip: "
            f"{lat['ratio_p50']:.2f}x {_mark(lat['ratio_p50'] <= LATENCY_RATIO)}"
        )
    return [*out, ""] if len(out) > 2 else []


def _method(data: dict[str, Any]) -> list[str]:
    return [
        "## Method",
        "",
        "- Three gunicorn servers per engine, side by side, all with the service's "
        f"`api_project/gunicorn.conf.py`: one worker ({_serving(data)}), "
        "`DJANGO_DEBUG=false`, the "
        "service's full middleware and request logging, pinned to core 0 (`taskset -c 0`). "
        "*API* is the service. *Django* (`bench/baseline_urls.py`, "
        "`bench/settings_baseline.py`) is plain function views under the same middleware on "
        "Django's own session store for the engine: `request.session.get(key)`, "
        "`request.session[key] = json.loads(request.body)['value']` (CSRF-checked by "
        "Django's middleware), and a few session attributes. *store* is those views on the "
        "service's store.",
        "- Load: wrk pinned to core 1 (`bench/wrk.lua`), the same requests to every server "
        "(same paths, session and CSRF cookies, `X-CSRFToken`); each PUT writes a new "
        "value. Every engine is measured with sessions of four small keys (140 bytes of "
        "JSON), and every server-side engine again with ~48 KB ones (the same keys plus "
        "twelve 4 KB values of random letters; `bench/probe.py` `SEEDS`), each size with "
        "its own browsers on the same servers. Rounds alternate the servers' order. "
        "Every response is checked; a single non-2xx answer or socket error fails the run.",
        "- `db` and `cached_db` use a fresh SQLite file (WAL) or a fresh PostgreSQL "
        "database; the cache is Redis for every engine (db 11). Only ratios measured "
        "in the same run mean much: the machine is shared with other work, so absolute "
        "figures move from run to run.",
        "",
    ]


def chart(data: dict[str, Any], path: Path) -> Path | None:
    """Grouped bars of API ÷ bare Django per engine and operation."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install -r requirements-dev.txt)")
        return None
    engines = list(data["sessions"].values())
    if not engines:
        return None
    ops = [op for op in OP_LABELS if any(op in e["ops"] for e in engines)]
    width = 0.8 / len(ops)
    colors = {"get_key": "#4C72B0", "put_key": "#DD8452", "get_session": "#55A868"}
    fig, ax = plt.subplots(figsize=(max(11, 1.3 * len(engines)), 5.6), dpi=110)
    for index, op in enumerate(ops):
        xs = [i + (index - (len(ops) - 1) / 2) * width for i in range(len(engines))]
        values = [e["ops"][op]["api"]["ratio"] if op in e["ops"] else 0 for e in engines]
        bars = ax.bar(
            xs, values, width * 0.92, label=f"{OP_LABELS[op]}: API ÷ Django", color=colors[op]
        )
        for bar, value in zip(bars, values, strict=True):
            if value:
                ax.annotate(
                    f"{value:.2f}",
                    (bar.get_x() + bar.get_width() / 2, value),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
        store = [
            e["ops"][op]["store"]["ratio"] if op in e["ops"] and "store" in e["ops"][op] else None
            for e in engines
        ]
        if any(v is not None for v in store):
            ax.scatter(
                [x for x, v in zip(xs, store, strict=True) if v is not None],
                [v for v in store if v is not None],
                marker="_",
                s=260,
                color="black",
                zorder=3,
                label="store ÷ Django" if index == 0 else None,
            )
    ax.axhline(
        RATIO_TARGET,
        color="#C44E52",
        linestyle="--",
        linewidth=1,
        label=f"target {RATIO_TARGET} (GET/PUT key)",
    )
    ax.axhline(1.0, color="grey", linewidth=0.8)
    # Two or three short lines a bar group: the engine, its storage, the session size.
    ticks = [
        e["label"].replace(" (", "\n(")
        + ("" if e.get("seed", "small") == "small" else "\n" + e["session"])
        for e in engines
    ]
    ax.set_xticks(range(len(engines)), ticks, fontsize=8)
    ax.set_ylabel("requests/s, API ÷ bare Django")
    highest = max(
        (
            row[variant]["ratio"]
            for e in engines
            for row in e["ops"].values()
            for variant in ("api", "store")
            if variant in row
        ),
        default=1.0,
    )
    ax.set_ylim(0, max(1.15, highest + 0.1))
    ax.set_title(
        f"Sessions API vs bare Django, one gunicorn worker, {_serving(data, short=True)} "
        f"({data['started']})",
        fontsize=11,
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=5, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(results: Any, directory: Path) -> list[Path]:
    """Write results.json, results.md and ratios.png into ``directory``."""
    data = dataclasses.asdict(results) if dataclasses.is_dataclass(results) else results
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "results.json", directory / "results.md"]
    paths[0].write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(data), encoding="utf-8")
    png = chart(data, directory / "ratios.png")
    return paths + ([png] if png else [])


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results.json")
    print(write_report(json.loads(source.read_text(encoding="utf-8")), source.parent))
