"""Issue 13's findings about the first command line, each as a test (they failed before the fix).

Against a real server; the command runs as a real process (`run`) where the process boundary is
the point, else in-process (`run_here`, same exit code and streams, no interpreter start-up).
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.cli_support import (
    Organization,
    add_seats,
    create_organization,
    free_port,
    graphql,
    one_line,
    run,
    run_here,
)

BACKUP = b'"Id","Full Name","Email","Standard","Inspections"\r\n' + b"x" * 800 + b"\r\n"


@pytest.fixture(scope="module")
def acme(served) -> Organization:
    organization = create_organization(served.url, "Acme")
    add_seats(served.url, organization, "STANDARD", 5)
    graphql(
        served.url,
        organization.admin,
        "mutation C($users: [UserInput!]!) { createUsers(users: $users) { userErrors { code } } }",
        {
            "users": [
                {"id": "u1", "fullName": "Ann", "email": "ann@example.com", "standard": "ASSIGNED"}
            ]
        },
    )
    return organization


def _backup(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir(exist_ok=True)
    target = tmp_path / "files" / "licenses.csv"
    target.write_bytes(BACKUP)
    return target


def _unchanged(target: Path) -> None:
    assert target.read_bytes() == BACKUP
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary left


# -- "A failed export destroys the backup it was asked to replace" ---------------------------------


def test_an_export_with_a_wrong_token_leaves_the_target_file_as_it_was(url, acme, tmp_path):
    target = _backup(tmp_path)
    result = run_here("licenses", "export", "-o", str(target), url=url, token="sk_wrong")
    assert result.returncode == 2
    assert "token" in one_line(result.stderr)
    _unchanged(target)


def test_an_export_from_a_stopped_server_leaves_the_target_file_as_it_was(tmp_path):
    target = _backup(tmp_path)
    stopped = f"http://127.0.0.1:{free_port()}"
    result = run("users", "export", "-o", str(target), url=stopped, token="sk_any")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "cannot reach" in line and "is the server running?" in line
    _unchanged(target)


def test_a_successful_export_replaces_the_file_and_keeps_its_permissions(url, acme, tmp_path):
    target = _backup(tmp_path)
    target.chmod(0o640)
    result = run_here("licenses", "export", "-o", str(target), url=url, token=acme.admin)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b'"Id","Full Name"')
    assert b'"u1","Ann","ann@example.com","Assigned",""' in target.read_bytes()
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["licenses.csv"]


# -- "`-o /nonexistent/dir/x.csv` ends in a Python traceback" -----------------------------------------


def test_an_output_in_a_missing_directory_is_one_line(url, acme):
    result = run("licenses", "export", "-o", "/nonexistent/dir/x.csv", url=url, token=acme.admin)
    assert result.returncode == 2
    assert "/nonexistent/dir" in one_line(result.stderr) and "does not exist" in result.stderr


def test_an_unwritable_directory_is_one_line(url, acme):
    # /proc takes no new files, whoever asks (root included, who ignores permission bits).
    result = run_here("users", "export", "-o", "/proc/x.csv", url=url, token=acme.admin)
    assert result.returncode == 2
    assert "cannot write /proc/x.csv" in one_line(result.stderr)
    assert not Path("/proc/x.csv").exists()


# -- "`--url http://…/graphql` says only 404: Not Found" ----------------------------------------------


@pytest.mark.parametrize("suffix", ["/graphql", "/graphql/", "/", ""])
def test_the_url_may_be_the_base_or_the_graphql_endpoint(url, acme, suffix):
    result = run_here("users", "export", "--url", url + suffix, "--token", acme.admin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('"Id","Full Name","Email"')


# -- "A token with a trailing space says: cannot reach …: Illegal header value" ---------------------


@pytest.mark.parametrize("padding", [" ", "\n", " \t", "\r\n"])
def test_a_token_is_stripped_of_surrounding_whitespace(url, acme, padding):
    result = run_here("licenses", "export", url=url, token=padding + acme.admin + padding)
    assert result.returncode == 0, result.stderr
    assert '"u1","Ann"' in result.stdout


def test_a_token_with_inner_spaces_is_one_line_before_any_request(url):
    result = run_here("licenses", "export", url=url, token="sk_abc def")
    assert result.returncode == 2
    assert "token" in one_line(result.stderr) and "Illegal" not in result.stderr


# -- 404 or HTML answers: "is this a Seatkeeper server?" --------------------------------------------


class _NotSeatkeeper(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        status = 404 if "missing" in self.path else 200
        body = b"<html><body>Welcome to nginx</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def other_server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotSeatkeeper)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("path", ["/missing", "/html"])
@pytest.mark.parametrize("command", [["licenses", "export"], ["users", "export"]])
def test_an_answer_that_is_not_seatkeeper_says_so(other_server, path, command, tmp_path):
    target = _backup(tmp_path)
    result = run_here(*command, "-o", str(target), url=other_server + path, token="sk_x")
    assert result.returncode == 2
    assert "is this a Seatkeeper server?" in one_line(result.stderr)
    _unchanged(target)


def test_an_import_sent_to_another_server_says_so(other_server, tmp_path):
    file = tmp_path / "in.csv"
    file.write_text("Id,Full Name,Email,Standard,Inspections\n", encoding="utf-8")
    result = run_here("licenses", "import", str(file), url=other_server + "/missing", token="sk_x")
    assert result.returncode == 2
    assert "is this a Seatkeeper server?" in one_line(result.stderr)


# -- help: environment variables ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["licenses", "export"], ["licenses", "import"], ["users", "export"]]
)
def test_help_names_the_environment_variables(command):
    result = run_here(*command, "--help")
    assert result.returncode == 0
    assert "SEATKEEPER_URL" in result.stdout and "SEATKEEPER_TOKEN" in result.stdout


def test_serve_help_lists_its_environment_variables():
    text = run("serve", "--help").stdout
    for name in (
        "SEATKEEPER_HOST",
        "SEATKEEPER_PORT",
        "SEATKEEPER_STORAGE",
        "SEATKEEPER_WORKERS",
        "SEATKEEPER_OPERATOR_TOKEN",
    ):
        assert name in text, name


# -- import: exit codes as documented ---------------------------------------------------------------


def test_import_help_states_the_exit_codes_the_command_uses():
    text = " ".join(run_here("licenses", "import", "--help").stdout.split())
    assert "exits 1 when nothing was applied" not in text
    assert "0 applied, or a dry run of a file without errors" in text
    assert "1 the file has errors" in text and "2 usage or connection" in text


def test_a_clean_dry_run_exits_0_and_a_file_with_errors_exits_1(url, acme, tmp_path):
    clean = tmp_path / "clean.csv"
    clean.write_text("Id,Full Name,Email,Standard,Inspections\nu1,Ann,ann@example.com,,\n")
    result = run_here("licenses", "import", str(clean), "--dry-run", url=url, token=acme.admin)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run, nothing applied" in result.stdout and "unassigned=1" in result.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text("Id,Full Name,Email,Standard,Inspections\nu1,Ann,ann@example.com,Maybe,\n")
    result = run_here("licenses", "import", str(broken), "--dry-run", url=url, token=acme.admin)
    assert result.returncode == 1
    assert "dry run, nothing applied" in result.stdout and "BAD_VALUE" in result.stdout


# -- exports print a count; grammar -----------------------------------------------------------------


def test_an_export_prints_how_many_rows_it_wrote(url, acme, tmp_path):
    target = tmp_path / "out.csv"
    result = run_here("licenses", "export", "-o", str(target), url=url, token=acme.admin)
    assert result.returncode == 0
    assert result.stderr.strip() == f"exported 1 row to {target}"
    result = run_here("users", "export", url=url, token=acme.admin)
    assert result.stderr.strip() == "exported 1 row"


def test_spec_7_not_enough_seats_says_1_user_not_1_users(url, tmp_path):
    empty = create_organization(url, "No seats")
    file = tmp_path / "one.csv"
    file.write_text("Id,Full Name,Email,Standard,Inspections\nn1,New,new@example.com,,Assigned\n")
    result = run_here("licenses", "import", str(file), url=url, token=empty.admin)
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert re.search(r"after the import 1 user would hold one", text), result.stdout
