"""What the console's browser tests, `make screenshots` and the benchmark share.

- `ConsoleServer`: a real server process (console_server.py) on a free port, always ended.
- `seed_organizations`: organizations made through the public API (the contract's operations),
  as an operator and administrators would: Acme with 10,000 users, a trial organization, an empty
  one for imports.
- `chromium`: Debian's Chromium driven by selenium through Debian's chromedriver, or a reason why
  not (the tests skip with it, or fail when SEATKEEPER_REQUIRE_BROWSER=1, as in CI).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import httpx

HERE = Path(__file__).resolve().parent
CONTRACT = HERE.parent / "contract" / "operations.graphql"
DOCUMENT = CONTRACT.read_text(encoding="utf-8")
SEED_CSV = HERE.parent / "data" / "seed-licenses.csv"
STARTUP_SECONDS = 20

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Alice",
    "Amir",
    "Anna",
    "Arjun",
    "Beatriz",
    "Bruno",
    "Carla",
    "Chen",
    "Chloe",
    "Dara",
    "David",
    "Elena",
    "Emil",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jamal",
    "Jana",
    "Kenji",
    "Lara",
    "Leon",
    "Lina",
    "Luca",
    "Maya",
    "Mila",
    "Nadia",
    "Omar",
    "Oskar",
    "Priya",
    "Rosa",
    "Sami",
    "Sofia",
    "Tariq",
    "Vera",
]
LAST_NAMES = [
    "Abbott",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umar",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
    "Adams",
    "Brown",
    "Clarke",
    "Dalton",
    "Evans",
    "Foster",
    "Gray",
    "Hughes",
    "Irving",
    "Jones",
    "Khan",
    "Lopez",
    "Murphy",
    "Nash",
    "Olsen",
    "Park",
    "Reyes",
    "Singh",
    "Taylor",
    "Walsh",
    "Young",
    "Ziegler",
    "Meyer",
    "Kim",
]
#: The seed page's example users (the first three are the seed CSV's sample) and their states.
NAMED_USERS = [
    (
        "1a75199f-a48b-40d4-b9bc-2ea05faa8197",
        "Matt Ford",
        "someone51@example.com",
        "UNASSIGNED",
        "ASSIGNED",
    ),
    (
        "1ac99e8f-824b-4b51-84ef-7ff55a555079",
        "Ralf Harper",
        "someone54@example.com",
        "UNASSIGNED",
        "ASSIGNED",
    ),
    (
        "10ac88c8-2226-4a98-ae0c-b7f57df0c4d3",
        "Pete Porter",
        "someone57@example.com",
        "ASSIGNED",
        "UNASSIGNED",
    ),
    (
        "5d0c2b1e-7a43-4c51-9a37-0f1b8e2d6a10",
        "Sandra Lopez",
        "someone60@example.com",
        "ASSIGNED",
        "UNASSIGNED",
    ),
    (
        "8f3e9a72-1c4d-4e0b-b6a5-2d7c9e1f4b83",
        "Kevin Walsh",
        "someone61@example.com",
        "ASSIGNED",
        "UNASSIGNED",
    ),
    (
        "c2a1f5d8-9b3e-4a7c-8e61-5f0d2b9c7a14",
        "Roland Becker",
        "someone62@example.com",
        "UNASSIGNED",
        "DISABLED",
    ),
    (
        "e7b4c9a2-3d1f-4f8e-a5b0-6c2d8e1f9a37",
        "Nora Quist",
        "someone63@example.com",
        "DISABLED",
        "DISABLED",
    ),
]
#: Users who sync without a license while automatic assignment is off: pending, temporary license.
PENDING_USERS = [
    ("3b9d7e1a-6c2f-4d8b-9e0a-1f5c7b3d9e21", "Alice Moreau", "someone64@example.com"),
    ("4c0e8f2b-7d3a-4e9c-8f1b-2a6d8c4e0f32", "Bruno Silva", "someone65@example.com"),
    ("5d1f9a3c-8e4b-4f0d-9a2c-3b7e9d5f1a43", "Chen Wei", "someone66@example.com"),
]
STANDARD_SEATS = 60
INSPECTIONS_SEATS = 12
#: Generated users holding a seat: with the named ones, 3 Standard seats stay free.
GENERATED_STANDARD = STANDARD_SEATS - 3 - 3
GENERATED_INSPECTIONS = INSPECTIONS_SEATS - 2


def generated_user(index: int) -> dict[str, str]:
    """The index-th generated user: a stable id, a plausible name, a unique e-mail."""
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"seatkeeper-console-{index}")),
        "fullName": f"{first} {last}",
        "email": f"{first}.{last}.{index}@example.com".lower(),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ConsoleServer:
    """console_server.py in its own process; `with ConsoleServer(tmp) as server:` ends it after."""

    def __init__(self, workdir: Path, storage: str = "memory://") -> None:
        self.workdir = workdir
        self.storage = storage
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.operator_token = "sk_op_" + secrets.token_urlsafe(24)
        self.clock_file = workdir / "clock-offset-days"
        self.process: subprocess.Popen | None = None
        self.http = httpx.Client(base_url=self.base, timeout=120)

    def set_clock_offset(self, days: float) -> None:
        """Move the server's clock to wall clock + `days` (it re-reads the file when it changes)."""
        self.clock_file.write_text(str(days))
        # mtime granularity: make sure the next write is seen as a change
        os.utime(self.clock_file, ns=(time.time_ns(), time.time_ns()))

    def __enter__(self) -> Self:
        self.set_clock_offset(0)
        self.log = (self.workdir / "server.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "console_server.py"),
                "--port",
                str(self.port),
                "--operator-token",
                self.operator_token,
                "--clock-file",
                str(self.clock_file),
                "--storage",
                self.storage,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the console server exited with {self.process.returncode}")
            try:
                if self.http.get("/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling a real process: no clock to inject here
        self.__exit__(None, None, None)
        raise RuntimeError(f"the console server did not start within {STARTUP_SECONDS} s")

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def gql(self, operation: str, variables: dict[str, Any] | None, token: str) -> dict[str, Any]:
        """One contract operation; fails loudly on a GraphQL error or a user error."""
        response = self.http.post(
            "/graphql",
            json={"query": DOCUMENT, "operationName": operation, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        for payload in body["data"].values():
            if isinstance(payload, dict) and payload.get("userErrors"):
                raise AssertionError(f"{operation}: {payload['userErrors']}")
        return body["data"]


@dataclass
class Organization:
    id: str
    name: str
    admin: str
    sync: str
    reader: str = ""
    users: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Seeded:
    operator: str
    acme: Organization
    trial: Organization
    imports: Organization


def create_organization(server: ConsoleServer, name: str, trial_days: int = 0) -> Organization:
    data = server.gql(
        "CreateOrganization",
        {"input": {"name": name, "trialDays": trial_days}},
        server.operator_token,
    )["createOrganization"]
    organization = data["organization"]
    created = Organization(organization["id"], name, data["adminToken"], data["syncToken"])
    created.reader = server.gql(
        "CreateToken",
        {"input": {"organizationId": created.id, "role": "READER", "name": "auditor"}},
        server.operator_token,
    )["createToken"]["token"]
    return created


def add_subscription(
    server: ConsoleServer, organization: Organization, license_type: str, seats: int | None
) -> None:
    until = datetime.now(UTC) + timedelta(days=365)
    server.gql(
        "AddSubscription",
        {
            "input": {
                "organizationId": organization.id,
                "licenseType": license_type,
                "seats": seats,
                "validUntil": iso(until),
            }
        },
        server.operator_token,
    )


def create_users(server: ConsoleServer, organization: Organization, users: list[dict]) -> None:
    for start in range(0, len(users), 20_000):  # request bodies stay well under the 20 MB limit
        server.gql("CreateUsers", {"users": users[start : start + 20_000]}, organization.admin)


def seed_acme(server: ConsoleServer, name: str, user_count: int) -> Organization:
    """An organization whose users were created 120 days ago (inactive by default) and of which a
    few synced today; 3 Standard seats are free, Inspections is full."""
    server.set_clock_offset(-120)
    organization = create_organization(server, name)
    add_subscription(server, organization, "STANDARD", STANDARD_SEATS)
    add_subscription(server, organization, "INSPECTIONS", INSPECTIONS_SEATS)
    add_subscription(server, organization, "EXTERNAL", None)
    users = [
        {"id": i, "fullName": n, "email": e, "standard": s, "inspections": p}
        for i, n, e, s, p in NAMED_USERS
    ]
    for index in range(user_count - len(users) - len(PENDING_USERS)):
        user = generated_user(index)
        if index < GENERATED_STANDARD:
            user["standard"] = "ASSIGNED"
        elif index < GENERATED_STANDARD + GENERATED_INSPECTIONS:
            user["inspections"] = "ASSIGNED"
        users.append(user)
    create_users(server, organization, users)
    organization.users = users
    server.set_clock_offset(0)
    for user_id, full_name, email, *_ in NAMED_USERS[:3]:
        server.gql("Sync", {"input": {"userId": user_id, "email": email}}, organization.sync)
    for user_id, full_name, email in PENDING_USERS:
        server.gql(
            "Sync",
            {"input": {"userId": user_id, "email": email, "fullName": full_name}},
            organization.sync,
        )
    return organization


def seed_organizations(server: ConsoleServer, user_count: int = 10_000) -> Seeded:
    acme = seed_acme(server, "Acme Field Service", user_count)
    trial = create_organization(server, "Trial Corp", trial_days=30)
    create_users(
        server,
        trial,
        [{"id": "trial-1", "fullName": "Tess Trial", "email": "tess@trial.example"}],
    )
    imports = create_organization(server, "Import Ltd")
    add_subscription(server, imports, "STANDARD", 5)
    add_subscription(server, imports, "INSPECTIONS", 5)
    return Seeded(server.operator_token, acme, trial, imports)


# ---------------------------------------------------------------- the browser

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
DRIVER_CANDIDATES = ("chromedriver",)
#: Chromium makes no request of its own (updates, safe browsing, sync): only the page's count.
QUIET_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only",
    "--password-store=basic",
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, in one line, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not any(shutil.which(name) for name in CHROMIUM_CANDIDATES):
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    if not any(shutil.which(name) for name in DRIVER_CANDIDATES):
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def chromium(download_dir: Path, width: int = 1280, height: int = 800):
    """A headless Debian Chromium at width×height that saves downloads in `download_dir` and logs
    every request (the performance log), driven through Debian's chromedriver: nothing is fetched."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = next(
        shutil.which(name) for name in CHROMIUM_CANDIDATES if shutil.which(name)
    )
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
    )
    driver.set_window_size(width, height)
    return driver
