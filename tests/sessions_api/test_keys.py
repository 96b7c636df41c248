"""The keys viewset: CRUD, names, values, limits, nothing lost on refusal.

On every engine, but for input refused before the session is read (``any_engine``).
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.api import KEYS, key_url, listing
from tests.support.engines import any_engine
from tests.support.problems import problem


def test_create_read_replace_delete_a_key(client):
    created = client.send("POST", KEYS, {"key": "color", "value": {"r": 1, "tags": ["a"]}})
    assert created.status_code == 201
    assert created.json() == {"key": "color", "value": {"r": 1, "tags": ["a"]}}
    assert created["Location"].endswith("/api/v1/session/keys/color/")

    assert client.get(key_url("color")).json() == {"key": "color", "value": {"r": 1, "tags": ["a"]}}

    replaced = client.send("PUT", key_url("color"), {"value": None})
    assert replaced.status_code == 200
    assert replaced.json() == {"key": "color", "value": None}

    assert client.delete(key_url("color")).status_code == 204
    problem(client.get(key_url("color")), 404, "not_found")
    problem(client.delete(key_url("color")), 404, "not_found")


def test_put_creates_with_201_then_replaces_with_200(client):
    assert client.send("PUT", key_url("n"), {"value": 1}).status_code == 201
    assert client.send("PUT", key_url("n"), {"value": 2}).status_code == 200
    assert listing(client) == {"n": 2}


def test_post_of_an_existing_key_is_a_conflict_and_keeps_the_value(client):
    client.send("POST", KEYS, {"key": "a", "value": 1})
    problem(client.send("POST", KEYS, {"key": "a", "value": 2}), 409, "key_exists")
    assert listing(client) == {"a": 1}


def test_list_is_sorted_by_code_point_and_hides_reserved_keys(client):
    for key in ["b", "B", "a", "10", "1", "a.b", "a-b"]:
        assert client.send("PUT", key_url(key), {"value": key}).status_code == 201
    client.send("PUT", "/api/v1/session/expiry/", {"seconds": 600})
    keys = [item["key"] for item in client.get(KEYS).json()]
    assert keys == sorted(["b", "B", "a", "10", "1", "a.b", "a-b"])
    assert not any(key.startswith("_") for key in keys)


def test_every_json_type_round_trips(client):
    values = {
        "obj": {"nested": {"x": [1, 2.5, "three", True, None]}},
        "arr": [],
        "str": "héllo ☃ 𝄞",
        "int": -12345678901234567890,
        "float": 1.5e-10,
        "true": True,
        "null": None,
    }
    for key, value in values.items():
        assert client.send("PUT", key_url(key), {"value": value}).status_code == 201
    assert listing(client) == values


def test_clear_removes_client_keys_but_keeps_expiry(client):
    client.send("PUT", key_url("a"), {"value": 1})
    client.send("PUT", key_url("b"), {"value": 2})
    client.send("PUT", "/api/v1/session/expiry/", {"seconds": 600})
    assert client.delete(KEYS).status_code == 204
    assert listing(client) == {}
    assert client.get("/api/v1/session/expiry/").json()["policy"] == "seconds"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("_auth_user_id", "reserved_key"),
        ("_x", "reserved_key"),
        ("", "invalid_key"),
        ("a b", "invalid_key"),
        ("a\n", "invalid_key"),
        ("ключ", "invalid_key"),
        ("-a", "invalid_key"),
        (".a", "invalid_key"),
        ("a" * 129, "invalid_key"),
        ("a/b", "invalid_key"),
        ("a\x00", "invalid_key"),
    ],
)
@any_engine
def test_bad_key_names_are_refused_on_post(client, name, code):
    client.send("PUT", key_url("keep"), {"value": "me"})
    problem(client.send("POST", KEYS, {"key": name, "value": 1}), 400, code)
    assert listing(client) == {"keep": "me"}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("_auth_user_id", "reserved_key"),
        ("a b", "invalid_key"),
        ("a\n", "invalid_key"),
        ("é", "invalid_key"),
    ],
)
@any_engine
def test_bad_key_names_are_refused_in_the_url(client, name, code):
    problem(client.send("PUT", key_url(name), {"value": 1}), 400, code)
    problem(client.get(key_url(name)), 400, code)
    problem(client.delete(key_url(name)), 400, code)
    assert listing(client) == {}


def test_longest_and_punctuated_names_are_accepted(client):
    names = ["a" * 128, "0", "A.b:c-d_e", "x:y"]
    for name in names:
        response = client.send("PUT", key_url(name), {"value": 1})
        assert response.status_code == 201, (name, response.content)
        assert response.json() == {"key": name, "value": 1}
        assert client.get(key_url(name)).json() == {"key": name, "value": 1}
    assert listing(client) == dict.fromkeys(names, 1)


@any_engine
def test_key_must_be_a_string(client):
    body = problem(client.send("POST", KEYS, {"key": 5, "value": 1}), 400, "invalid")
    assert body["errors"][0]["field"] == "key"
    problem(client.send("POST", KEYS, {"value": 1}), 400, "invalid")


@any_engine
def test_value_is_required(client):
    body = problem(client.send("PUT", key_url("a"), {}), 400, "invalid")
    assert body["errors"] == [
        {"field": "value", "code": "required", "message": "This field is required."}
    ]


def nested(depth: int):
    value: object = 1
    for _ in range(depth - 1):
        value = [value]
    return value


def test_value_depth_limit_is_32(client):
    assert client.send("PUT", key_url("deep"), {"value": nested(32)}).status_code == 201
    body = problem(client.send("PUT", key_url("deep"), {"value": nested(33)}), 400, "invalid")
    assert body["errors"][0]["field"] == "value"
    assert client.get(key_url("deep")).json()["value"] == nested(32)


@any_engine
def test_absurdly_deep_json_is_a_parse_error_not_a_500(client):
    body = '{"value": ' + "[" * 100000 + "]" * 100000 + "}"
    response = client.generic("PUT", key_url("x"), body, "application/json")
    problem(response, 400, "parse_error")


@any_engine
def test_unpaired_surrogate_and_non_finite_numbers_are_refused(client):
    problem(client.generic("PUT", key_url("s"), '{"value": "\\ud800"}'), 400, "invalid")
    problem(client.generic("PUT", key_url("s"), '{"value": {"\\udfff": 1}}'), 400, "invalid")
    problem(client.generic("PUT", key_url("n"), '{"value": NaN}'), 400, "parse_error")
    problem(client.generic("PUT", key_url("n"), '{"value": 1e999}'), 400, "invalid")
    assert listing(client) == {}


@override_settings(SESSION_API_MAX_VALUE_BYTES=10)
def test_value_limit_counts_compact_utf8_bytes(client):
    # "ééééé" as JSON is 12 bytes: 5 two-byte characters and two quotes.
    assert client.send("PUT", key_url("a"), {"value": "abcdefgh"}).status_code == 201  # 10 bytes
    problem(client.send("PUT", key_url("a"), {"value": "ééééé"}), 413, "value_too_large")
    assert listing(client) == {"a": "abcdefgh"}


@override_settings(SESSION_API_MAX_SESSION_BYTES=30)
def test_session_limit_counts_the_whole_object(client):
    # {"a":"xxxxxxxxxxxxxxxxxxxxxx"} is 30 bytes exactly.
    assert client.send("PUT", key_url("a"), {"value": "x" * 22}).status_code == 201
    problem(client.send("PUT", key_url("b"), {"value": 1}), 413, "session_too_large")
    assert listing(client) == {"a": "x" * 22}
    # Replacing with something smaller is fine, and so is the room it frees.
    assert client.send("PUT", key_url("a"), {"value": "x"}).status_code == 200


@override_settings(SESSION_API_MAX_KEYS=3)
def test_key_count_limit(client):
    for key in "abc":
        assert client.send("POST", KEYS, {"key": key, "value": 1}).status_code == 201
    problem(client.send("POST", KEYS, {"key": "d", "value": 1}), 413, "too_many_keys")
    assert client.send("PUT", key_url("a"), {"value": 2}).status_code == 200  # replacing adds none
    assert listing(client) == {"a": 2, "b": 1, "c": 1}


@override_settings(
    SESSION_API_MAX_VALUE_BYTES=20, SESSION_API_MAX_SESSION_BYTES=40, SESSION_API_MAX_KEYS=1
)
def test_when_several_limits_break_the_contract_order_wins(client):
    client.send("PUT", key_url("a"), {"value": "x" * 10})
    # Breaks all three: value (>20), session (>40), keys (>1).
    problem(client.send("PUT", key_url("b"), {"value": "y" * 30}), 413, "value_too_large")
    # Breaks session and keys.
    problem(client.send("PUT", key_url("b"), {"value": "y" * 18}), 413, "session_too_large")
    # Breaks keys only.
    problem(client.send("PUT", key_url("b"), {"value": 1}), 413, "too_many_keys")
    assert listing(client) == {"a": "x" * 10}


@pytest.mark.engines("signed_cookies")  # the browser cookie limit applies to it alone
def test_signed_cookie_never_outgrows_the_browser_limit(make_client, engine):
    client = make_client()
    stored = 0
    # Random-looking values do not compress: the cookie fills up quickly.
    import secrets

    for index in range(40):
        response = client.send("PUT", key_url(f"k{index}"), {"value": secrets.token_urlsafe(150)})
        if response.status_code == 413:
            assert response.json()["code"] == "session_too_large"
            break
        assert response.status_code == 201
        stored += 1
        cookie = response.cookies["sessionid"]
        assert len("sessionid=" + cookie.value) <= 4093
    else:
        pytest.fail("the cookie limit was never reached")
    # Everything that was accepted is still there in the next request.
    assert len(listing(client)) == stored
    session = client.get("/api/v1/session/").json()
    assert session["storage"]["bytes_used"] <= 4093
    assert session["storage"]["bytes_limit"] < 65536


def test_the_quick_cookie_size_bound_never_underestimates():
    """The bound that spares most writes the signing must be >= the exact cookie size."""
    import random
    import string

    from sessions_api.engines.signed_cookies import SessionStore

    store = SessionStore()
    rng = random.Random(20261126)
    alphabet = string.printable + "çé€😀\u2028"
    for size in (0, 1, 10, 100, 1000, 3000):
        for _ in range(20):
            data = {
                f"k{i}": "".join(rng.choice(alphabet) for _ in range(rng.randint(0, size)))
                for i in range(rng.randint(0, 5))
            }
            if rng.random() < 0.3:
                data["_session_expiry"] = rng.randint(1, 31536000)
            assert store.cookie_bytes_upper_bound(data) >= store.projected_cookie_bytes(data)
