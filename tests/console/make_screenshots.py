"""`make screenshots`: every screen of the console, as a person sees it, in docs/screenshots/.

A real server process seeded through the public API (console_support), Debian's Chromium at
1280×800 (and 390×844 for the phone view). Run it again after changing the console; the README
shows the pictures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from console_support import (
    NAMED_USERS,
    SEED_CSV,
    ConsoleServer,
    browser_missing,
    chromium,
    seed_organizations,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def wait(driver, script: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if driver.execute_script(f"return Boolean({script})"):
            time.sleep(0.15)  # let the last paint land
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {script}")


def sign_in(driver, server, token: str) -> None:
    driver.get(f"{server.base}/console/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{server.base}/console/")
    wait(driver, "document.querySelector('input[name=token]')")
    driver.find_element(By.NAME, "token").send_keys(token, Keys.ENTER)
    wait(driver, "document.querySelector('#role')")


def users_loaded(driver, after: int = 0) -> None:
    wait(driver, f"Number(document.querySelector('.users-screen')?.dataset.loads ?? 0) > {after}")
    wait(driver, "document.querySelector('.users-screen')?.dataset.subscriptionLoads")


def loads(driver) -> int:
    return int(
        driver.execute_script("return document.querySelector('.users-screen').dataset.loads")
    )


def search(driver, text: str) -> None:
    before = loads(driver)
    box = driver.find_element(By.NAME, "search")
    box.clear()
    box.send_keys(text, Keys.ENTER)
    users_loaded(driver, before)


def shot(driver, name: str) -> None:
    driver.execute_script("window.scrollTo(0, 0); document.activeElement?.blur()")
    time.sleep(0.1)
    driver.save_screenshot(str(OUT / f"{name}.png"))
    print(f"docs/screenshots/{name}.png")


def click_rows(driver, *indexes: int) -> None:
    for position, index in enumerate(indexes):
        cell = driver.find_element(By.CSS_SELECTOR, f'tbody tr[data-index="{index}"] td.name')
        chain = ActionChains(driver)
        if position:
            chain.key_down(Keys.CONTROL).click(cell).key_up(Keys.CONTROL).perform()
        else:
            chain.click(cell).perform()


def main() -> int:
    missing = browser_missing()
    if missing:
        print(f"make screenshots needs a browser: {missing}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir, ConsoleServer(Path(workdir)) as server:
        seeded = seed_organizations(server, 10_000)
        driver = chromium(Path(workdir))
        try:
            driver.get(f"{server.base}/console/")
            wait(driver, "document.querySelector('input[name=token]')")
            shot(driver, "sign-in")

            sign_in(driver, server, seeded.acme.admin)
            users_loaded(driver)
            search(driver, "someone")  # the seed page's example users
            click_rows(driver, 1, 3, 5)
            shot(driver, "mobile-users")

            search(driver, "")
            Select(driver.find_element(By.NAME, "licenseType")).select_by_value("STANDARD")
            before = loads(driver)
            Select(driver.find_element(By.NAME, "state")).select_by_value("UNASSIGNED")
            users_loaded(driver, before)
            click_rows(driver, 0, 1, 2, 3)
            driver.find_element(
                By.CSS_SELECTOR, '.subscription-card[data-type="STANDARD"] .bulk .position-assigned'
            ).click()
            wait(driver, "document.querySelector('#notice [role=alert]')")
            shot(driver, "refused-change")

            driver.set_window_size(390, 844)
            sign_in(driver, server, seeded.acme.admin)
            users_loaded(driver)
            search(driver, "someone")
            shot(driver, "mobile-users-phone")
            driver.set_window_size(1280, 800)

            sign_in(driver, server, seeded.imports.admin)
            driver.get(f"{server.base}/console/#/import")
            wait(driver, "document.querySelector('input[type=file]')")
            driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(SEED_CSV))
            driver.find_element(By.CSS_SELECTOR, ".import-form button[type=submit]").click()
            wait(driver, "document.querySelector('table.problems')")
            shot(driver, "import-dry-run")

            sign_in(driver, server, seeded.acme.admin)
            driver.get(f"{server.base}/console/#/settings")
            wait(driver, "document.querySelector('input[name=inactivityDays]')")
            shot(driver, "settings")

            nora = NAMED_USERS[6]
            server.gql("Sync", {"input": {"userId": nora[0], "email": nora[2]}}, seeded.acme.sync)
            driver.get(f"{server.base}/console/#/sync-log")
            wait(driver, "document.querySelector('table.log tbody td')")
            shot(driver, "sync-log")
            driver.get(f"{server.base}/console/#/audit-log")
            wait(driver, "document.querySelector('table.log tbody td')")
            shot(driver, "audit-log")
            driver.get(f"{server.base}/console/#/tokens")
            wait(driver, "document.querySelector('tr[data-token]')")
            shot(driver, "tokens")

            sign_in(driver, server, seeded.acme.reader)
            users_loaded(driver)
            search(driver, "someone")
            shot(driver, "reader")

            sign_in(driver, server, seeded.trial.admin)
            users_loaded(driver)
            shot(driver, "trial")

            sign_in(driver, server, seeded.operator)
            wait(driver, "document.querySelector('tr[data-organization]')")
            driver.find_element(By.NAME, "organizationName").send_keys(
                "Northwind Mobile", Keys.ENTER
            )
            wait(driver, "document.querySelectorAll('.created-secret input.secret').length === 2")
            shot(driver, "operator-organizations")
            Select(driver.find_element(By.ID, "organization-picker")).select_by_visible_text(
                "Acme Field Service"
            )
            wait(driver, "document.querySelector('.subscription-card')")
            shot(driver, "operator-organization")
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
