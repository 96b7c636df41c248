"""Playwright, when installed: test modules import it from here so that collection works
without it (the fixtures then skip, or fail under CI=true)."""

from __future__ import annotations

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - exercised only where Playwright is missing
    expect = None
    sync_playwright = None

__all__ = ["expect", "sync_playwright"]
