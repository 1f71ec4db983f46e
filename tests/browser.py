"""A real headless browser for the dashboard test: Debian's chromium and chromedriver driven by
selenium (nothing is downloaded at run time). It reaches only the address it is sent to: host
names resolve to nothing and chromium's own background traffic is switched off."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
QUIET = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
         "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
         "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--metrics-recording-only")
# What horizon shows instead of a page when something broke.
ERROR_PAGES = ("Something went wrong", "Server Error (500)", "Traceback (most recent call last)", "Bad Request (400)")


class Browser:
    def __init__(self, screenshots: Path, address: str, timeout: float = 60) -> None:
        """``address``: the one address the browser may reach (any name resolves to nothing)."""
        self.screenshots = screenshots
        self.timeout = timeout
        options = Options()
        options.binary_location = CHROMIUM
        for argument in (*QUIET, f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {address}"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(timeout)

    def __enter__(self) -> "Browser":
        self.screenshots.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        self.driver.quit()

    @property
    def url(self) -> str:
        return self.driver.current_url

    def open(self, url: str) -> "Browser":
        self.driver.get(url)
        return self

    def log_in(self, user: str, password: str) -> None:
        wait = WebDriverWait(self.driver, self.timeout)
        wait.until(expected_conditions.presence_of_element_located((By.ID, "id_username")))
        for field, value in (("id_username", user), ("id_password", password)):
            element = self.driver.find_element(By.ID, field)
            element.clear()
            element.send_keys(value)
        self._submit(self.driver.find_element(By.ID, "loginBtn"))

    def log_out(self) -> None:
        """As a person does: the user menu, then Sign Out (a POST form: Django 5 logs out on POST only)."""
        wait = WebDriverWait(self.driver, self.timeout)
        self.driver.find_element(By.XPATH, "//form[contains(@action, '/auth/logout/')]/ancestor::li"
                                           "[contains(@class, 'dropdown')]/a").click()
        button = wait.until(expected_conditions.element_to_be_clickable(
            (By.CSS_SELECTOR, "form[action$='/auth/logout/'] button")))
        self._submit(button)

    def _submit(self, button) -> None:
        """Click a form's button and wait until the page it leads to has loaded."""
        wait = WebDriverWait(self.driver, self.timeout)
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()
        wait.until(expected_conditions.staleness_of(old))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def wait_for_text(self, text: str) -> None:
        WebDriverWait(self.driver, self.timeout).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text, f"{text!r} never showed on {self.url}")

    def alerts(self) -> list[str]:
        return [e.text.strip() for e in self.driver.find_elements(By.CSS_SELECTOR, ".alert-danger") if e.text.strip()]

    def check_page(self, name: str):
        """Screenshot the page; fail on an error page or a page without its compressed stylesheet."""
        self.driver.save_screenshot(str(self.screenshots / f"{name}.png"))
        body = self.driver.find_element(By.TAG_NAME, "body")
        for sign in ERROR_PAGES:
            assert sign not in body.text and sign not in self.driver.title, f"{name}: {sign} on {self.url}"
        sheets = self.driver.execute_script(
            "return Array.from(document.styleSheets).filter(s => s.href && s.href.includes('/static/dashboard/'))"
            ".map(s => { try { return [s.href, s.cssRules.length]; } catch (e) { return [s.href, -1]; } });")
        assert sheets, f"{name}: no dashboard stylesheet on {self.url}"
        for href, rules in sheets:
            assert rules > 0, f"{name}: stylesheet {href} has no rules"
            with urllib.request.urlopen(href, timeout=30) as response:
                assert response.status == 200 and "css" in response.headers.get("Content-Type", ""), href
        return body
