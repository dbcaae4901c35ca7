"""The console as a person sees it: Debian's Chromium, headless, driven by Selenium, on a served demo estate.

:func:`browser` starts one Chromium of its own (a fresh profile, so its own cookies);
:class:`Person` is someone at that browser, who opens pages, fills in fields and presses
buttons by the words on them, and reads what the page says. :func:`demo_estate` is the
synced demo estate with console accounts, as the tests and the screenshots use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

#: Where Debian's ``chromium`` and ``chromium-driver`` packages put the browser and its driver.
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The window every page is seen (and photographed) in.
WINDOW = (1280, 900)
#: How long a page may take to load or change after a button is pressed.
WAIT_S = 30
#: Chromium without a display, a sandbox (CI runs as root), the network calls of its own or a profile to sync.
_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync")


def missing() -> str | None:
    """Why a browser cannot be driven here (None when it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if absent:
        return f"no {' or '.join(absent)}: apt-get install chromium chromium-driver"
    return None


def browser(profile: Path):
    """A headless Chromium with a fresh profile in ``profile``, showing pages in :data:`WINDOW`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in _FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_S)
    # The window's size includes the browser's own frame: the page itself is given exactly WINDOW.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
    return driver


class Person:
    """Someone at a browser, on the console served at ``url``."""

    def __init__(self, driver, url: str) -> None:
        self.driver, self.url = driver, url

    # -- going places -----------------------------------------------------------------------------------

    def open(self, path: str) -> Person:
        """Type the address of ``path`` into the browser."""
        self.driver.get(self.url + path)
        return self

    @property
    def path(self) -> str:
        """The path (and query) of the page the browser shows."""
        current = self.driver.current_url
        return current[len(self.url):] if current.startswith(self.url) else current

    def follow(self, words: str, within=None) -> Person:
        """Click the link that reads ``words`` and wait for its page."""
        link = (within or self.driver).find_element("xpath", f'.//a[normalize-space()="{words}"]')
        return self._loads(link.click)

    def press(self, words: str, within=None) -> Person:
        """Press the button that reads ``words`` (a form post) and wait for the page it leads to."""
        return self._loads(self.button(words, within).click)

    def button(self, words: str, within=None):
        """The button that reads ``words``."""
        return (within or self.driver).find_element("xpath", f'.//button[normalize-space()="{words}"]')

    def _loads(self, action) -> Person:
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        # A mark on the current document's window object: a new page has none. Waiting for the old
        # <html> element to go stale instead asks the browser about a node of a document that may
        # already be gone, which some Chromium versions answer with an error rather than "stale".
        self.driver.execute_script("window.__officehubPage = true")
        action()
        # A script sent while the page is being replaced may meet no document at all: ask again.
        WebDriverWait(self.driver, WAIT_S, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return window.__officehubPage !== true"
                                       " && document.readyState === 'complete'"))
        return self

    # -- filling in -------------------------------------------------------------------------------------

    def field(self, name: str, within=None):
        """The input, text area or list called ``name``."""
        return (within or self.driver).find_element("css selector", f'[name="{name}"]')

    def fill(self, name: str, text: str, within=None) -> Person:
        """Clear the field ``name`` and type ``text`` into it."""
        field = self.field(name, within)
        field.clear()
        field.send_keys(text)
        return self

    def choose(self, name: str, option: str) -> Person:
        """Pick ``option`` in the drop-down list ``name``."""
        from selenium.webdriver.support.ui import Select

        Select(self.field(name)).select_by_visible_text(option)
        return self

    def sign_in(self, login: str, password: str) -> Person:
        """Open the console and sign in (from wherever the console sends a visitor)."""
        if not self.path.startswith("/login"):
            self.open("/login")
        return self.fill("login", login).fill("password", password).press("Sign in")

    def sign_out(self) -> Person:
        """Open one's name in the menu and press Sign out."""
        self.driver.find_element("css selector", "nav details.dropdown summary").click()
        return self.press("Sign out")

    # -- reading ----------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything the page shows, as the browser lays it out."""
        return self.driver.find_element("tag name", "body").text

    @property
    def heading(self) -> str:
        """The page's heading."""
        return self.driver.find_element("css selector", "main h2").text

    @property
    def notice(self) -> str:
        """The one-line notice at the top of the page ('' when there is none)."""
        found = self.driver.find_elements("css selector", "main > p.notice")
        return found[0].text if found else ""

    @property
    def problem(self) -> str:
        """The page's error message ('' when there is none)."""
        found = self.driver.find_elements("css selector", ".problem")
        return found[0].text if found else ""

    def rows(self, table) -> list[list[str]]:
        """The cells' text of each body row of ``table``."""
        return [[cell.text for cell in row.find_elements("xpath", "./th|./td")]
                for row in table.find_elements("css selector", "tbody > tr")]

    def screenshot(self, target: Path, at=None) -> Path:
        """Save what the window shows as a PNG: the top of the page, or from the element ``at`` on."""
        self.driver.execute_script("arguments[0] ? arguments[0].scrollIntoView(true) : window.scrollTo(0, 0);"
                                   "document.activeElement && document.activeElement.blur();", at)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(target))
        return target


def demo_estate(folder: Path, users: dict[str, list[str]], *, added_by: str = "user:test-setup",
                **sizes: int) -> Path:
    """The demo estate's configuration in ``folder``, its legacy apps seeded and every pipeline run once,
    and console accounts (login → roles) with the tests' password, added by ``added_by``."""
    from officehub.config import load_project
    from officehub.demo.seed import seed_estate
    from officehub.engine import open_store
    from officehub.services import accounts
    from tests.conftest import copy_demo_config
    from tests.helpers import sync_all
    from tests.integration.served import PASSWORD

    copy_demo_config(folder)
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    # Everyone signs in from 127.0.0.1: the per-address limit is the integration tests' to try.
    config["serve"]["login_attempts_per_minute"] = 10_000
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    seed_estate(folder / "data", **sizes)
    results = sync_all(folder)
    failed = {name: r.error for name, r in results.items() if r.status != "succeeded"}
    assert not failed, failed
    store = open_store(load_project(folder))
    try:
        for login, roles in users.items():
            accounts.add(store, added_by, login, roles, password=PASSWORD)
    finally:
        store.close()
    return folder
