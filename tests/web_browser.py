"""Headless Debian chromium for the web page tests (Selenium with the system chromedriver), and
a screenshot of the page saved as a test artifact when a browser test fails."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "needs Debian chromium and chromium-driver (scripts/install-browser installs them)"
# Where failing browser tests leave their screenshots (CI keeps the folder of its clone).
ARTIFACTS = Path(os.environ.get("RAG_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


def chromium(profile: Path, size: str = "1400,1000"):
    """A headless chromium that fetches nothing on its own, with its console log readable."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--window-size={size}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def screenshot_on_failure(request, driver) -> Path | None:
    """After a test: if it failed, save the page as test-artifacts/web/<test>.png (and its HTML)."""
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return None
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])[:120]
    folder = ARTIFACTS / "web"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    try:
        driver.save_screenshot(str(path))
        (folder / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
    except Exception as err:  # noqa: BLE001 (a dead browser must not hide the test's own failure)
        print(f"no screenshot: {err}")
        return None
    print(f"screenshot of the failing page: {path}")
    return path


def console_errors(driver) -> list[str]:
    """The page's console errors since the last call (chromium's SEVERE entries)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
