"""The assertion every refusal goes through: a problem+json body with the right code."""

from __future__ import annotations


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["detail"]
    return body
