"""Failed-login throttling: atomic under parallel guesses, keyed so a flood from elsewhere
does not lock a user out of their own address early, and shared by every way in (the
API's login, a wrong ``old_password``, the Django admin's login form)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client as DjangoClient
from django.test import override_settings

from tests.factories import PASSWORD, make_user
from tests.servers import HttpSession, gunicorn, manage, service_env
from tests.support.api import LOGIN, login
from tests.support.caches import DEAD_CACHE
from tests.support.clients import Client
from tests.support.problems import problem

PASSWORD_CHANGE = "/api/v1/auth/password/"
ADMIN_LOGIN = "/admin/login/"
WRONG = "wrong guess"


def client_at(address: str) -> Client:
    """An API client whose requests come from ``address``, CSRF token fetched."""
    api = Client(REMOTE_ADDR=address)
    api.csrf()
    return api


def guess(client: Client, username: str, password: str = WRONG):
    return client.send("POST", LOGIN, {"username": username, "password": password})


def assert_throttled(response) -> None:
    problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


@pytest.mark.django_db
@override_settings(
    LOGIN_THROTTLE_IP_USERNAME_RATE="3/min",
    LOGIN_THROTTLE_IP_RATE="100/min",
    LOGIN_THROTTLE_USERNAME_RATE="10/hour",
)
def test_a_flood_from_elsewhere_does_not_lock_the_user_out_before_the_username_limit():
    user = make_user(username="victim")
    home = client_at("198.51.100.7")
    # Three attacking addresses, three wrong guesses each: their own pairs fill up.
    for index in range(3):
        attacker = client_at(f"203.0.113.{index + 1}")
        assert [guess(attacker, "victim").status_code for _ in range(3)] == [400] * 3
        assert_throttled(guess(attacker, "victim"))
        # A throttled guess is not counted: 9 of the username's 10 are used after this.
    # From home the user is not locked out: the right password, then a typo.
    login(home, user)
    problem(guess(home, "victim"), 400, "invalid_credentials")  # failure 10 of 10
    # The username-wide limit is now full: every address, home included, waits.
    assert_throttled(guess(client_at("203.0.113.50"), "victim"))
    assert_throttled(guess(client_at("198.51.100.7"), "victim", PASSWORD))


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_IP_USERNAME_RATE="3/min")
def test_a_throttled_login_is_refused_even_with_the_right_password_and_a_success_does_not_count():
    user = make_user(username="ana")
    browser = client_at("198.51.100.8")
    assert [guess(browser, "ana").status_code for _ in range(2)] == [400, 400]
    login(browser, user)  # right password: not counted
    browser.send("POST", "/api/v1/auth/logout/")
    browser.csrf()
    problem(guess(browser, "ana"), 400, "invalid_credentials")  # the third failure
    assert_throttled(guess(browser, "ana", PASSWORD))
    # Other spellings of the same name count in the same bucket (NFKC, case-folded).
    assert_throttled(guess(browser, "ANA"))
    assert_throttled(guess(browser, "\uff41\uff4e\uff41"))  # fullwidth "ana"
    # Another username from the same address is not throttled by the pair limit.
    problem(guess(browser, "bo"), 400, "invalid_credentials")


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_IP_RATE="3/min")
def test_addresses_of_one_ipv6_network_share_the_address_limit():
    for index, address in enumerate(("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ff::9")):
        problem(guess(client_at(address), f"name{index}"), 400, "invalid_credentials")
    assert_throttled(guess(client_at("2001:db8:1:2:abcd::1"), "name9"))
    # Another /64 has a budget of its own.
    problem(guess(client_at("2001:db8:1:3::1"), "name9"), 400, "invalid_credentials")


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_IP_USERNAME_RATE="3/min")
def test_a_wrong_old_password_counts_as_a_failed_login():
    user = make_user(username="carol")
    browser = client_at("198.51.100.9")
    login(browser, user)
    body = {"old_password": "not it", "new_password": "another long passphrase 42"}
    for _ in range(3):
        wrong = problem(browser.send("POST", PASSWORD_CHANGE, body), 400, "invalid")
        assert wrong["errors"][0]["field"] == "old_password"
    assert_throttled(browser.send("POST", PASSWORD_CHANGE, body))
    # Throttled with the right old password too, and the login is throttled alike.
    right = {**body, "old_password": PASSWORD}
    assert_throttled(browser.send("POST", PASSWORD_CHANGE, right))
    assert_throttled(guess(client_at("198.51.100.9"), "carol", PASSWORD))
    assert browser.get("/api/v1/auth/me/").status_code == 200  # still logged in
    # The password did not change.
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
@override_settings(LOGIN_THROTTLE_IP_USERNAME_RATE="3/min")
def test_the_admin_login_goes_through_the_same_throttles():
    make_user(username="staff", is_staff=True)
    admin = DjangoClient(REMOTE_ADDR="198.51.100.10")
    form = {"username": "staff", "password": WRONG, "next": "/admin/"}
    # One failure through the API, two through the admin: one bucket.
    problem(guess(client_at("198.51.100.10"), "staff"), 400, "invalid_credentials")
    for _ in range(2):
        response = admin.post(ADMIN_LOGIN, form)
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    throttled = admin.post(ADMIN_LOGIN, {**form, "password": PASSWORD})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) >= 1
    assert "Too many failed logins" in throttled.content.decode()
    assert admin.get("/admin/").status_code == 302  # not logged in
    assert_throttled(guess(client_at("198.51.100.10"), "staff", PASSWORD))


@pytest.mark.django_db
def test_the_admin_login_still_logs_staff_in():
    make_user(username="boss", is_staff=True)
    admin = DjangoClient(REMOTE_ADDR="198.51.100.11")
    response = admin.post(ADMIN_LOGIN, {"username": "boss", "password": PASSWORD, "next": "/a/"})
    assert response.status_code == 302 and response["Location"] == "/a/"
    assert admin.get("/admin/").status_code == 200


@pytest.mark.integration
@pytest.mark.standalone
def test_parallel_wrong_guesses_cannot_pass_the_limit(tmp_path, redis_server):
    """21 wrong guesses at once for one username from one address, against gunicorn
    (2 workers x 8 threads) on the real Redis: at most 5 reach the password check."""
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GUNICORN_THREADS="8",
        LOGIN_THROTTLE_IP_USERNAME_RATE="5/min",
        LOGIN_THROTTLE_IP_RATE="1000/min",
        LOGIN_THROTTLE_USERNAME_RATE="1000/hour",
    )
    manage("migrate", "--noinput", env=env)
    with gunicorn(env, workers=2) as base:
        owner = HttpSession(base)
        owner.fetch_csrf()
        body = {"username": "target", "password": PASSWORD}
        assert owner.request("POST", "/api/v1/auth/register/", body)[0] == 201
        guessers = [HttpSession(base) for _ in range(21)]
        for each in guessers:
            each.fetch_csrf()

        def wrong_guess(browser: HttpSession) -> tuple[int, str | None]:
            status, _, headers = browser.request(
                "POST", LOGIN, {"username": "target", "password": WRONG}
            )
            return status, headers.get("Retry-After")

        with ThreadPoolExecutor(max_workers=len(guessers)) as pool:
            answers = list(pool.map(wrong_guess, guessers))
    statuses = [status for status, _ in answers]
    print(f"\n21 parallel wrong guesses: {statuses.count(400)} x 400, {statuses.count(429)} x 429")
    assert 1 <= statuses.count(400) <= 5, statuses
    assert statuses.count(400) + statuses.count(429) == len(guessers), statuses
    assert all(int(wait or 0) >= 1 for status, wait in answers if status == 429), answers


@pytest.mark.django_db
def test_with_the_cache_down_a_login_is_503_on_the_api_and_the_admin():
    """The counts cannot be reserved, so no password is checked; the server is not at
    fault, so neither answer is a 500."""
    make_user(username="keeper", is_staff=True)
    api = client_at("198.51.100.12")
    admin = DjangoClient(REMOTE_ADDR="198.51.100.12", raise_request_exception=False)
    with override_settings(CACHES=DEAD_CACHE):
        problem(guess(api, "keeper", PASSWORD), 503, "unavailable")
        response = admin.post(ADMIN_LOGIN, {"username": "keeper", "password": PASSWORD})
    assert response.status_code == 503
    assert "Service unavailable" in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()  # nothing of the error
