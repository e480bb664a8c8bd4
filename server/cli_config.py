"""Where the command line finds its server and token, and how it fails in one line.

Precedence: `--url`/`--token`, then SEATKEEPER_URL/SEATKEEPER_TOKEN, then the profile
(`--profile`, SEATKEEPER_PROFILE, default `default`) in `$XDG_CONFIG_HOME/seatkeeper/config.toml`
(`~/.config/seatkeeper/config.toml`), then the default URL. A profile file that holds a token must
be readable by its owner only (like ssh's keys): otherwise the command refuses to use it.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import tomli_w
from seatkeeper.server.client import DEFAULT_URL, EXIT_USAGE, Server, fail

R = TypeVar("R")

ENVIRONMENT_HELP = (
    "Server and token come from --url/--token, else SEATKEEPER_URL/SEATKEEPER_TOKEN, else the "
    "profile in ~/.config/seatkeeper/config.toml (seatkeeper config save)."
)


class OneLineErrors(click.Group):
    """The `seatkeeper` group: a usage error is one line on stderr (exit 2), like every failure."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            message = " ".join(error.format_message().split())
            click.echo(f"seatkeeper: {message}{where}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("seatkeeper: aborted", err=True)
            sys.exit(EXIT_USAGE)
        except BrokenPipeError:  # `seatkeeper users list | head`
            sys.stderr.close()
            sys.exit(0)
        except Exception as error:  # a bug: one line for people, the trace on request
            if os.environ.get("SEATKEEPER_DEBUG"):
                raise
            click.echo(
                f"seatkeeper: unexpected error: {type(error).__name__}: {error} "
                "(SEATKEEPER_DEBUG=1 shows the trace)".replace("\n", " "),
                err=True,
            )
            sys.exit(EXIT_USAGE)
        sys.exit(code if isinstance(code, int) else 0)


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "seatkeeper" / "config.toml"


def read_profiles(path: Path) -> dict[str, Any]:
    """Every profile of the file (empty when there is none); refuses a file others can read."""
    try:
        info = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    try:
        profiles = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        fail(f"{path} is not valid TOML: {str(error).splitlines()[0]}")
    holds_token = any(isinstance(p, dict) and "token" in p for p in profiles.values())
    if holds_token and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        fail(
            f"{path} holds a token and other users may read it "
            f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}"
        )
    if holds_token and hasattr(os, "getuid") and info.st_uid != os.getuid():
        fail(f"{path} holds a token and belongs to another user")
    return profiles


def profile(name: str) -> dict[str, str]:
    path = config_path()
    profiles = read_profiles(path)
    found = profiles.get(name)
    if found is None:
        if name != "default":
            fail(f"no profile {name!r} in {path}")
        return {}
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        fail(f"profile {name!r} in {path} must be a table of strings (url, token)")
    return found


def save_profile(name: str, values: dict[str, str]) -> Path:
    """Write (or update) one profile; the file is created readable by its owner only."""
    path = config_path()
    profiles = read_profiles(path)
    profiles[name] = {**profiles.get(name, {}), **values}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(tomli_w.dumps(profiles).encode("utf-8"))
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    return path


def resolve(url: str | None, token: str | None, profile_name: str) -> Server:
    """The server a command talks to, from flags, environment and profile (in that order)."""
    saved = profile(profile_name)
    url = url or saved.get("url") or DEFAULT_URL
    token = token if token is not None else saved.get("token")
    if token is None:
        fail("no token: pass --token, set SEATKEEPER_TOKEN or run `seatkeeper config save`")
    return Server.of(url, token)


def server_options(command: Callable[..., R]) -> Callable[..., R]:
    """--url, --token, --profile and --json on a command; it receives `server` and `as_json`.

    The command's parameters change (`server` in, `url`, `token` and `profile_name` out), so the
    result is typed as a callable of any parameters, with the same result."""

    @click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
    )
    @click.option(
        "--profile",
        "profile_name",
        envvar="SEATKEEPER_PROFILE",
        show_envvar=True,
        default="default",
        show_default=True,
        help="Profile of ~/.config/seatkeeper/config.toml to use.",
    )
    @click.option(
        "--token",
        envvar="SEATKEEPER_TOKEN",
        show_envvar=True,
        help="Bearer token (OPERATOR, ADMIN or READER, as the command needs).",
    )
    @click.option(
        "--url",
        envvar="SEATKEEPER_URL",
        show_envvar=True,
        help=f"The server's base URL or its /graphql endpoint [default: {DEFAULT_URL}].",
    )
    @functools.wraps(command)
    def wrapper(
        *args: Any, url: str | None, token: str | None, profile_name: str, **kwargs: Any
    ) -> R:
        server = resolve(url, token, profile_name)
        return command(*args, server=server, **kwargs)

    return wrapper


def show_environment(command: click.Command, variables: dict[str, str]) -> None:
    """List an existing command's environment variables in its --help (serve's, for instance)."""
    for parameter in command.params:
        if isinstance(parameter, click.Option) and parameter.envvar:
            parameter.show_envvar = True
    lines = "\n".join(f"  {name}  {what}" for name, what in variables.items())
    extra = f"Environment variables besides the options':\n\n\b\n{lines}"
    command.epilog = f"{command.epilog}\n\n{extra}" if command.epilog else extra


# ---------------------------------------------------------------- `seatkeeper config`


@click.group("config")
def config_group() -> None:
    """Save or show a profile (server URL and token) in ~/.config/seatkeeper/config.toml."""


@config_group.command("save")
@click.option("--url", envvar="SEATKEEPER_URL", show_envvar=True, help="The server's base URL.")
@click.option("--token", envvar="SEATKEEPER_TOKEN", show_envvar=True, help="The token to keep.")
@click.option(
    "--profile",
    "profile_name",
    envvar="SEATKEEPER_PROFILE",
    show_envvar=True,
    default="default",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def config_save(url: str | None, token: str | None, profile_name: str, as_json: bool) -> None:
    """Keep --url and --token in a profile (file mode 600), so later commands need neither."""
    from seatkeeper.server.client import base_url, clean_token

    values: dict[str, str] = {}
    if url is not None:
        values["url"] = base_url(url)
    if token is not None:
        values["token"] = clean_token(token)
    if not values:
        fail("nothing to save: pass --url and/or --token")
    path = save_profile(profile_name, values)
    if as_json:
        click.echo(
            json.dumps({"profile": profile_name, "path": str(path), "saved": sorted(values)})
        )
        return
    click.echo(f"saved profile {profile_name!r} in {path}")


@config_group.command("show")
@click.option(
    "--profile",
    "profile_name",
    envvar="SEATKEEPER_PROFILE",
    show_envvar=True,
    default="default",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def config_show(profile_name: str, as_json: bool) -> None:
    """Show the profile's URL and the start of its token (never the whole secret)."""
    saved = profile(profile_name)
    token = saved.get("token")
    if as_json:
        shown = {"path": str(config_path()), "profile": profile_name, "url": saved.get("url")}
        click.echo(json.dumps({**shown, "token": token[:8] + "…" if token else None}))
        return
    click.echo(f"file     {config_path()}")
    click.echo(f"profile  {profile_name}")
    click.echo(f"url      {saved.get('url', '-')}")
    click.echo(f"token    {token[:8] + '…' if token else '-'}")


# ---------------------------------------------------------------- `seatkeeper completion`


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(context: click.Context, shell: str) -> None:
    """Print the shell completion script, e.g. `eval "$(seatkeeper completion bash)"`."""
    from click.shell_completion import get_completion_class

    root = context.find_root()
    completer = get_completion_class(shell)
    assert completer is not None  # the Choice above names only the shells click knows
    script = completer(root.command, {}, "seatkeeper", "_SEATKEEPER_COMPLETE").source()
    click.echo(script)
