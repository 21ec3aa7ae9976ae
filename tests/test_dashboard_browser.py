"""The dashboard in a real browser: ``consim dashboard`` in headless Chromium, offline.

Starts the server as a subprocess on a free port, opens the page with
Playwright, blocks every request that leaves 127.0.0.1 (the page must render
offline), moves a lever, steps the model, and checks that the displayed time,
a chart and the compare table changed. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from processes import free_port, running_dashboard

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium missing (./dev test installs it)"),
]


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ, SOLARA_TELEMETRY_MIXPANEL_ENABLE="False", LANG="en_US.UTF-8", LC_ALL="en_US.UTF-8")
    env.pop("CONSIM_LANG", None)
    ARTIFACTS.mkdir(exist_ok=True)

    def answers(port: int) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.status == 200

    with running_dashboard(free_port(), ["--host", "127.0.0.1"], ARTIFACTS / "dashboard-server.log", ready=answers,
                           timeout=45, poll=0.3, env=env, stop_wait=10) as port:
        yield f"http://127.0.0.1:{port}/"


def _wait_text_change(locator, old: str, timeout_s: float = 20.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = locator.inner_text()
        if now != old:
            return now
        time.sleep(0.1)
    raise AssertionError(f"text stayed {old!r} for {timeout_s} s")


def _now_row(page, label: str) -> list[str]:
    row = page.locator(".consim-now tr", has_text=label).first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_dashboard_in_headless_chromium(server):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    missing: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})

            def only_local(route):
                host = urlparse(route.request.url).hostname
                if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_local)
            page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(server)
            page.wait_for_selector(".consim-time", timeout=45_000)
            page.wait_for_selector(".consim-chart-participation img", timeout=45_000)
            page.wait_for_selector(".consim-network img", timeout=45_000)
            time_text = page.locator(".consim-time")
            t0 = time_text.inner_text()
            assert "step 0" in t0
            chart = page.locator(".consim-chart-money img")
            money0 = chart.screenshot()

            # Drawing the controls must not move any of them (a slider snapping the
            # preset's value to its grid would): open every panel, nothing is marked changed.
            headers = page.locator(".consim-group")
            for i in range(1, headers.count()):
                headers.nth(i).click()
            page.wait_for_timeout(1500)
            moved = [t for t in page.locator(".consim-param-label").all_inner_texts() if "●" in t]
            assert not moved, f"controls changed by themselves: {moved}"
            assert page.locator(".consim-pending").count() == 0
            for i in range(1, headers.count()):
                headers.nth(i).click()

            # Move a lever: the subsidy's cost share, from 0 to about 0.7 (click on its slider track).
            label = page.locator(".consim-p-policy-subsidy-cost_share .consim-param-label")
            label0 = label.inner_text()
            track = page.locator(".consim-p-policy-subsidy-cost_share .v-slider")
            box = track.bounding_box()
            assert box is not None
            track.click(position={"x": box["width"] * 0.7, "y": box["height"] / 2})
            label1 = _wait_text_change(label, label0)
            assert label1 != label0 and "●" in label1

            # Compare with the preset as loaded (same seed), then step: 3 single months and a year.
            page.locator(".consim-compare .v-input--selection-controls__ripple").click()
            page.wait_for_selector(".consim-reference", timeout=20_000)
            t = t0
            for _ in range(3):
                page.locator(".consim-step").click()
                t = _wait_text_change(time_text, t)
            assert "step 3" in t
            page.locator(".consim-year").click()
            t = _wait_text_change(time_text, t)
            assert "step 15" in t and t != t0
            page.wait_for_selector(".consim-network-ref img", timeout=20_000)

            # Play runs on by itself until paused.
            page.locator(".consim-play").click()
            _wait_text_change(time_text, t)
            page.locator(".consim-play").click()  # pause
            page.wait_for_timeout(1500)
            t = time_text.inner_text()
            page.wait_for_timeout(1000)
            assert time_text.inner_text() == t, "the model kept running after pause"
            assert 16 <= int(t.rsplit("step", 1)[1]) < 120

            # The charts changed, and the lever's effect shows against the same-seed reference.
            deadline = time.monotonic() + 20
            while chart.screenshot() == money0 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert chart.screenshot() != money0
            page.wait_for_selector(".consim-now table", timeout=20_000)
            spent = _now_row(page, "subsidy spent")
            assert len(spent) == 4, spent  # label, yours, reference, difference
            # The expected effect of a subsidy, shown against the same-seed reference.
            assert float(spent[3].replace(",", "")) > 0, spent
            sme = _now_row(page, "sme participation rate")
            assert float(sme[3]) > 0, sme
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)

            # Chinese interface.
            page.get_by_text("中文", exact=True).click()
            page.wait_for_function("document.querySelector('.consim-time').innerText.includes('第')", timeout=20_000)
            assert "第" in time_text.inner_text()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "dashboard-zh.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert not outside, f"the page tried to reach the internet: {outside[:5]}"
    assert not missing, f"assets missing (Solara would fetch them from a CDN): {missing[:5]}"
    log = (ARTIFACTS / "dashboard-server.log").read_text(errors="replace")
    assert "Could not load URL" not in log, log[-2000:]
