"""Command line: the dashboard, and headless commands for scripts and CI logs.

Exit codes (documented in the README):
  0 ok · 1 failure (wait: a generation failed or was cancelled; resubmit: one could not
  be) · 2 usage or rejected request · 3 hub unreachable or timed out · 4 auth refused ·
  5 rate limited · 6 hub error or wrong host/path · 7 bad payload · 8 an id was never
  seen (wait) or is nowhere (show, resubmit) · 9 redirect · 10 history: the hub has no
  history endpoint · 124 wait/events: timed out · 130 interrupted
"""

from __future__ import annotations

from queue_tui.core.gc_policy import imports_paused_gc, tune_allocator

# Start-up: importing click, httpx, pydantic and the models (and then Textual, see
# `main`) leaves about 50,000 long-lived objects and a few hundred of garbage, yet the
# cyclic collector would run about 150 times over them, and then keep walking them in
# every older-generation pass. So it is paused while modules are imported, and what the
# imports made is frozen (`imports_paused_gc`). Measured: about 40 ms of the dashboard's
# start-up.
with imports_paused_gc():
    import asyncio
    import functools
    import json
    import os
    import sys
    from collections.abc import Callable
    from typing import Any, NoReturn

    import click
    from rich.cells import cell_len

    from queue_tui import __version__
    from queue_tui.api.errors import QueueError
    from queue_tui.api.filters import SERVER_FILTERS, SERVER_SPECS
    from queue_tui.api.models import Generation
    from queue_tui.config import (
        Settings,
        SettingsError,
        check_flag,
        config_path,
        replay_interval,
        resolve_settings,
    )
    from queue_tui.connect import build_client, client_and_clock
    from queue_tui.core import columns
    from queue_tui.core.history import GROUPINGS
    from queue_tui.logsetup import setup_logging
    from queue_tui.sanitize import clean

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NEVER_SEEN = 8
EXIT_TIMEOUT = 124
EXIT_INTERRUPTED = 130


def _connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the dashboard and every headless command."""
    options = [
        click.option(
            "--host",
            metavar="URL",
            # Not click's envvar: resolve_settings reads QUEUE_TUI_HOST, so that a bad
            # value is reported as coming from the variable, not from --host.
            help="Hub URL [env var: QUEUE_TUI_HOST; default: https://hub.oxen.ai].",
        ),
        click.option(
            "--token",
            help="API token (else $OXEN_API_KEY, else the oxen CLI's "
            "auth_config.toml). Never printed.",
        ),
        click.option("--demo", is_flag=True, help="Use the embedded, simulated demo hub."),
        click.option("--seed", type=int, default=7, show_default=True, hidden=True),
        click.option(
            "--allow-insecure",
            is_flag=True,
            help="Allow sending the token over plain http to a non-loopback host.",
        ),
        click.option("--timeout", metavar="SECONDS", help="Read timeout in seconds [default: 10]."),
        *(
            click.option(
                spec.flag,
                spec.name,
                type=click.Choice(spec.choices) if spec.choices else None,
                help=spec.help,
            )
            for spec in SERVER_SPECS
        ),
        click.option(
            "--record",
            type=click.Path(dir_okay=False, writable=True),
            help="Append every exchange with the hub to FILE (JSON lines, never the token).",
        ),
        click.option(
            "--replay",
            type=click.Path(exists=True, dir_okay=False, readable=True),
            help="Answer from a recording made with --record instead of a hub.",
        ),
        click.option(
            "--speed",
            type=click.FloatRange(min=0),
            help="With --replay: pace by the recorded times, X times as fast; 0 = "
            "no pacing [default: 1].",
        ),
        click.option(
            "--log",
            "log_file",
            type=click.Path(dir_okay=False, writable=True),
            help="Append a debug log to FILE (tokens redacted).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _with_group_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Options given before the command (`queue-tui --demo list`) count too."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None or root is ctx:
        return kwargs
    merged = dict(kwargs)
    for key, value in root.params.items():
        if merged.get(key) in (None, False) and value not in (None, False):
            merged[key] = value
    return merged


# The settings' flags take text (no click type): resolve_settings checks every value,
# from a flag, the environment or the config file alike, and names where a bad one came
# from in one `queue-tui:` line (exit 2).
_interval_option = click.option(
    "--interval", metavar="SECONDS", help="Seconds between polls (min 0.5) [default: 2]."
)
_resolve_limit_option = click.option(
    "--resolve-limit",
    metavar="SECONDS",
    help="Seconds a vanished generation may stay unresolved while the hub's outcome sources "
    "fail; then it is unknown, with the reason [default: 600].",
)


#: The dashboard's settings flags (resolve_settings' arguments of the same names).
_SETTINGS_FLAGS = (
    "interval",
    "theme",
    "read_only",
    "linger",
    "bell",
    "notify_success",
    "resolve_limit",
)


def _usage_error(error: SettingsError) -> NoReturn:
    click.echo(f"queue-tui: {error.message}", err=True)
    sys.exit(error.exit_code)


def _settings_from(kwargs: dict[str, Any], *, dashboard: bool = False, **extra: Any) -> Settings:
    """Resolved and checked settings; a bad one exits 2 with one line. Headless commands
    print the configuration's warnings on stderr (the dashboard shows them itself)."""
    kwargs = _with_group_options(kwargs)
    if kwargs.get("log_file"):
        # The configured token is redacted from the log once the client is built.
        try:
            setup_logging(kwargs["log_file"])
        except OSError as exc:
            _usage_error(SettingsError(f"--log {kwargs['log_file']}: cannot write: {exc.strerror}"))
    filters = {name: kwargs.get(name) for name in SERVER_FILTERS}
    # Every settings flag given, even one this command does not use (`queue-tui
    # --interval -5 list`), is checked.
    given = {k: kwargs.get(k) for k in _SETTINGS_FLAGS if kwargs.get(k) is not None}
    try:
        settings = resolve_settings(
            host=kwargs.get("host"),
            token=kwargs.get("token"),
            timeout=kwargs.get("timeout"),
            filters=filters,
            allow_insecure=bool(kwargs.get("allow_insecure")),
            demo=bool(kwargs.get("demo")),
            **{**given, **extra},
        )
    except SettingsError as error:
        _usage_error(error)
    if not dashboard:
        for warning in settings.warnings:
            click.echo(f"queue-tui: warning: {warning}", err=True)
    settings.record = kwargs.get("record")
    if kwargs.get("replay"):
        # A recording answers; no token is needed, so none is sent anywhere.
        settings.replay = kwargs["replay"]
        settings.token, settings.token_source = None, "none (replay)"
    if kwargs.get("speed") is not None:
        settings.replay_speed = kwargs["speed"]
    if settings.replay and settings.replay_speed > 0:
        # The interval is the recording's poll cadence: 4x as fast polls 4x as often.
        settings.interval = replay_interval(settings.interval, settings.replay_speed)
    return settings


def _fail(error: QueueError) -> None:
    click.echo(f"queue-tui: {error.message}", err=True)
    sys.exit(error.exit_code)


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


def _reader_gone() -> NoReturn:
    """Whoever read stdout has stopped (`list --jsonl | head -1`): a normal, quiet end.
    Stdout becomes /dev/null so that the interpreter's last flush at exit cannot raise
    ("Exception ignored ... BrokenPipeError") either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass
    sys.exit(EXIT_OK)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """A hub fault: its one `queue-tui:` line and exit code. A closed pipe: exit 0."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except QueueError as error:
            _fail(error)
        except BrokenPipeError:
            _reader_gone()

    return wrapper


# -- the human table ------------------------------------------------------------------

#: The dashboard's columns that `list` always prints (`Column.list_title`,
#: `Column.list_text`); ERROR joins them when a printed row failed (`Column.shown_if`).
LIST_COLUMNS = tuple(c.list_title for c in columns.LIST_COLUMNS if c.shown_if is None)


def format_table(
    rows: list[Generation], now: float, *, whole: bool = False, width: int | None = None
) -> str:
    """Plain-text table of generations (exact times, `?` for a field of the wrong type);
    every hub string sanitised. Values are cut to their column's `list_width` with `…`
    (for a terminal), or printed whole with `whole` (for a file or a pipe)."""
    shown = columns.list_columns(rows)
    titles = [c.list_title for c in shown]

    def cell(column: columns.Column, g: Generation) -> str:
        text = column.list_text(g, now) if column.list_text else ""
        return text if whole or not column.list_width else clean(text, max_len=column.list_width)

    body = [tuple(cell(c, g) for c in shown) for g in rows]
    # Terminal cells, not code points: a CJK model name or an emoji is two cells wide.
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in body]) for i, h in enumerate(titles)]

    def pad(text: str, w: int) -> str:
        return text + " " * (w - cell_len(text))

    lines = ["  ".join(pad(h, w) for h, w in zip(titles, widths, strict=True)).rstrip()]
    for r in body:
        lines.append("  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())
    if width:
        lines = [line[:width] for line in lines]
    return "\n".join(lines)


# -- commands ---------------------------------------------------------------------------


class _QueueTuiGroup(click.Group):
    """Click's own usage errors (a missing argument, an unknown option, a bad choice) as
    one `queue-tui:` line and exit 2, like every other failure, not click's usage block."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            _click_usage_error(error)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            _click_usage_error(error)


def _click_usage_error(error: click.UsageError) -> NoReturn:
    names = []
    ctx = error.ctx
    while ctx is not None and ctx.parent is not None:  # the subcommand, not the root's name
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    command = " ".join(["queue-tui", *reversed(names)])
    message = " ".join(error.format_message().split())
    click.echo(f"queue-tui: {message} See '{command} --help'.", err=True)
    sys.exit(error.exit_code)


@click.group(
    cls=_QueueTuiGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f"Config file: {config_path()}",
)
@_connection_options
@_interval_option
@click.option("--theme", help="Textual theme name, e.g. nord, gruvbox, textual-light.")
@click.option(
    "--read-only", is_flag=True, default=None, help="Disable every action (cancel, resubmit)."
)
@click.option(
    "--linger", metavar="SECONDS", help="Seconds a finished row stays visible [default: 600]."
)
@_resolve_limit_option
@click.option("--chaos", is_flag=True, help="With --demo: inject faults to watch the app cope.")
@click.option(
    "--bell", is_flag=True, default=None, help="Ring the terminal bell when a generation fails."
)
@click.option(
    "--notify-success",
    is_flag=True,
    default=None,
    help="A toast when a generation succeeds too (failures always get one).",
)
@click.version_option(__version__, prog_name="queue-tui")
@click.pass_context
def main(ctx: click.Context, **kwargs: Any) -> None:
    """A live terminal dashboard for the Oxen.ai render queue.

    With no command, opens the dashboard. Try `queue-tui --demo`.
    """
    if ctx.invoked_subcommand is not None:
        return
    # Settings first: a bad value or config file is reported before anything starts.
    settings = _settings_from(
        kwargs,
        dashboard=True,
        interval=kwargs.get("interval"),
        theme=kwargs.get("theme"),
        read_only=kwargs.get("read_only"),
        linger=kwargs.get("linger"),
        bell=kwargs.get("bell"),
        notify_success=kwargs.get("notify_success"),
        resolve_limit=kwargs.get("resolve_limit"),
    )
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        click.echo(
            "queue-tui: the dashboard needs a terminal; for scripts use "
            "`queue-tui list` or `queue-tui events`",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    tune_allocator()  # before any thread: an all-day process (core/gc_policy.py)
    # A replay runs on the recording's clock, so ages read as they did when recorded.
    client, clock = client_and_clock(
        settings, seed=kwargs["seed"], chaos=0.1 if kwargs.get("chaos") else 0.0
    )
    with imports_paused_gc():
        from queue_tui.tui.app import run_dashboard
    run_dashboard(settings, client=client, clock=clock)


@main.command("list")
@_connection_options
@click.option("--json", "as_json", is_flag=True, help="Print the page as {count, generations}.")
@click.option("--jsonl", is_flag=True, help="Print one generation per line as JSON.")
@handle_errors
def list_command(as_json: bool, jsonl: bool, **kwargs: Any) -> None:
    """One poll: print the queue and exit."""
    settings = _settings_from(kwargs)
    client, clock = client_and_clock(settings, seed=kwargs["seed"])

    async def go() -> Any:
        async with client:
            return await client.fetch(settings.filters)

    result = _run(go())
    page = result.page
    if as_json:
        click.echo(json.dumps(page.to_api(), ensure_ascii=True))
    elif jsonl:
        for gen in page.generations:
            click.echo(json.dumps(gen.to_api(), ensure_ascii=True))
    else:
        # Cut to fit on a terminal; whole values for a file, a pipe or a CI log.
        click.echo(format_table(page.generations, clock(), whole=not sys.stdout.isatty()))
    # The same counts in every format: stdout holds exactly the rows kept.
    from queue_tui.headless import page_note

    note = page_note(len(page.dropped), page.degraded)
    if note:
        click.echo(f"queue-tui: {note}", err=True)


@main.command("demo-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8787, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--no-events", is_flag=True, help="Serve no /api/events stream (404).")
@click.option(
    "--chaos",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="RATE",
    help="Inject a fault (errors, stalls, garbage, hostile rows) into this fraction of "
    "queue list requests, e.g. 0.2.",
)
@click.option("--old-shape", is_flag=True, help="Serve the docs' older rows: `model`, no status.")
@click.option(
    "--no-retry",
    is_flag=True,
    help="No POST /api/ai/queue/ID/retry (404), like the hub of the spec; resubmits "
    "then enqueue the request again.",
)
@click.option(
    "--history",
    "past",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Start with N more finished generations in the history, over the day before.",
)
@click.option("--no-history", is_flag=True, help="Serve no GET /api/ai/generations (404).")
def demo_server(
    host: str,
    port: int,
    seed: int,
    no_events: bool,
    chaos: float,
    old_shape: bool,
    no_retry: bool,
    past: int,
    no_history: bool,
) -> None:
    """Serve the simulated demo hub over HTTP for other clients."""
    from queue_tui.demo.server import run_server

    click.echo(
        f"demo hub on http://{host}:{port}  (queue-tui --host http://{host}:{port})", err=True
    )
    shape = "old" if old_shape else "spec"
    run_server(
        host=host,
        port=port,
        seed=seed,
        events=not no_events,
        chaos=chaos,
        row_shape=shape,
        retry=not no_retry,
        history=not no_history,
        past=past,
    )


# -- lifecycle commands: events, wait, cancel -------------------------------------------


def _timeout_is_a_deadline(command: click.Command) -> click.Command:
    """For `events` and `wait`, `--timeout S` bounds the whole run (exit 124); the read
    timeout keeps its default (or `queue-tui --timeout S events` before the command)."""
    for param in command.params:
        if param.name == "timeout" and isinstance(param, click.Option):
            param.help = "Give up after S seconds (exit 124)."
    return command


def _deadline_and_settings(kwargs: dict[str, Any]) -> tuple[float | None, Settings]:
    deadline = kwargs.pop("timeout", None)
    if deadline is not None:
        try:  # a deadline is seconds > 0, as the read timeout is
            deadline = check_flag("timeout", deadline)
        except SettingsError as error:
            _usage_error(error)
    kwargs["timeout"] = None
    merged = _with_group_options(kwargs)
    settings = _settings_from(
        kwargs, interval=merged.get("interval"), resolve_limit=merged.get("resolve_limit")
    )
    return deadline, settings


def _check_ids(ids: tuple[str, ...]) -> None:
    from queue_tui.api.models import valid_id

    bad = [i for i in ids if not valid_id(i)]
    if bad:
        click.echo(f"queue-tui: not a generation id: {clean(bad[0], max_len=80)!r}", err=True)
        sys.exit(EXIT_USAGE)


def _echo_err(line: str) -> None:
    click.echo(line, err=True)


@_timeout_is_a_deadline
@main.command("events")
@_connection_options
@_interval_option
@_resolve_limit_option
@click.option("--jsonl", is_flag=True, help="One JSON object per line instead of text.")
@click.option(
    "--until-empty",
    is_flag=True,
    help="Exit 0 once the (filtered) queue is empty and every outcome is known.",
)
@click.option("--no-events", is_flag=True, help="Poll only; do not use the hub's event stream.")
@handle_errors
def events_command(jsonl: bool, until_empty: bool, no_events: bool, **kwargs: Any) -> None:
    """Print one line per lifecycle event: appeared, started, succeeded, failed,
    cancelled, vanished, unknown (time, event, id, model, media, result URL or error)."""
    from queue_tui.headless import run_events

    deadline, settings = _deadline_and_settings(kwargs)
    client, clock = client_and_clock(settings, seed=kwargs["seed"])

    async def go() -> int:
        async with client:
            return await run_events(
                client,
                settings,
                out=click.echo,
                err=_echo_err,
                jsonl=jsonl,
                until_empty=until_empty,
                timeout=deadline,
                events=not no_events,
                clock=clock,
            )

    sys.exit(_run(go()))


@_timeout_is_a_deadline
@main.command("wait")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@_connection_options
@_interval_option
@_resolve_limit_option
@click.option("--fail-fast", is_flag=True, help="Stop at the first failure (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end.")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds an id may stay unlisted (just enqueued) before it counts as never seen.",
)
@click.option("--no-events", is_flag=True, help="Poll only; do not use the hub's event stream.")
@handle_errors
def wait_command(
    ids: tuple[str, ...],
    fail_fast: bool,
    as_json: bool,
    grace: float,
    no_events: bool,
    **kwargs: Any,
) -> None:
    """Block until every ID has finished; print each outcome with its result URL or error.

    Exit 0 when all succeeded, 1 when any failed or was cancelled (or its outcome is
    unknown), 8 when an id was never seen, 124 on --timeout.
    """
    from queue_tui.headless import run_wait

    _check_ids(ids)
    deadline, settings = _deadline_and_settings(kwargs)
    progress = None
    if sys.stderr.isatty():

        def progress(text: str) -> None:
            sys.stderr.write(text)
            sys.stderr.flush()

    client, clock = client_and_clock(settings, seed=kwargs["seed"])

    async def go() -> int:
        async with client:
            return await run_wait(
                client,
                settings,
                ids,
                out=click.echo,
                err=_echo_err,
                timeout=deadline,
                fail_fast=fail_fast,
                as_json=as_json,
                grace=grace,
                events=not no_events,
                progress=progress,
                clock=clock,
            )

    sys.exit(_run(go()))


@main.command("cancel")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@_connection_options
@handle_errors
def cancel_command(ids: tuple[str, ...], **kwargs: Any) -> None:
    """Cancel queued or running generations: "cancelled ID" or "ID already finished".

    Exit 0 when every id was cancelled, 1 when any had already finished; refused with
    exit 2 in read-only mode (--read-only, or read_only = true in the config file).
    """
    from queue_tui.headless import run_cancel

    _check_ids(ids)
    merged = _with_group_options(kwargs)
    settings = _settings_from(kwargs, read_only=merged.get("read_only"))
    if settings.read_only:
        click.echo("queue-tui: read-only mode: cancel refused", err=True)
        sys.exit(EXIT_USAGE)

    async def go() -> int:
        async with build_client(settings, seed=kwargs["seed"]) as client:
            return await run_cancel(client, ids, out=click.echo)

    sys.exit(_run(go()))


@main.command("resubmit")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@_connection_options
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the body each would be enqueued with (JSON, one line per id); send nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end.")
@handle_errors
def resubmit_command(ids: tuple[str, ...], dry_run: bool, as_json: bool, **kwargs: Any) -> None:
    """Resubmit failed or cancelled generations; print each new id, one a line.

    Through the hub's retry endpoint where it has one, else by enqueuing the original
    request again (model, prompt, parameters, target; nothing the hub set). Exit 0 when
    every id was resubmitted, 1 when any could not be (one line each), 8 when an id is
    nowhere; refused with exit 2 in read-only mode (but --dry-run).
    """
    from queue_tui.headless import run_resubmit

    _check_ids(ids)
    merged = _with_group_options(kwargs)
    settings = _settings_from(kwargs, read_only=merged.get("read_only"))
    if settings.read_only and not dry_run:
        click.echo("queue-tui: read-only mode: resubmit refused", err=True)
        sys.exit(EXIT_USAGE)

    async def go() -> int:
        async with build_client(settings, seed=kwargs["seed"]) as client:
            return await run_resubmit(
                client,
                settings,
                ids,
                out=click.echo,
                err=_echo_err,
                dry_run=dry_run,
                as_json=as_json,
            )

    sys.exit(_run(go()))


@main.command("show")
@click.argument("generation_id", metavar="ID")
@_connection_options
@click.option(
    "--json", "as_json", is_flag=True, help="Print the row as JSON (the spec's field names)."
)
@handle_errors
def show_command(generation_id: str, as_json: bool, **kwargs: Any) -> None:
    """Print one generation in full: every field, local times, queue wait and run time,
    the whole error, the result URL.

    Looked up by id, else in the status lists, else in the hub's history. Exit 8 when
    it is nowhere (every source answered without it).
    """
    from queue_tui.headless import run_show

    _check_ids((generation_id,))
    settings = _settings_from(kwargs)
    client, clock = client_and_clock(settings, seed=kwargs["seed"])

    async def go() -> int:
        async with client:
            return await run_show(
                client,
                settings,
                generation_id,
                out=click.echo,
                err=_echo_err,
                as_json=as_json,
                whole=not sys.stdout.isatty(),
                clock=clock,
            )

    sys.exit(_run(go()))


def _every_status_by_default(command: click.Command) -> click.Command:
    """The history lists every status: `--status` narrows it (no "active" default)."""
    for param in command.params:
        if param.name == "status" and isinstance(param, click.Option):
            param.help = "Only this status (server-side). Default: every status."
    return command


@_every_status_by_default
@main.command("history")
@_connection_options
@click.option(
    "--since",
    metavar="WHEN",
    help="Only generations enqueued since WHEN: a duration before now (30m, 24h, 7d, "
    "1h30m) or a time (2026-11-29, 2026-11-29T14:00, 2026-11-29T14:00Z, unix seconds).",
)
@click.option("--until", metavar="WHEN", help="Only generations enqueued up to WHEN (as --since).")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON document: the rows, then the totals."
)
@click.option("--jsonl", is_flag=True, help="One generation per line as JSON.")
@click.option(
    "--csv", "as_csv", is_flag=True, help="CSV (RFC 4180) with a header of the API's field names."
)
@click.option(
    "--summary",
    type=click.Choice(GROUPINGS),
    help="Count, failures and spend per model, day (local) or user, instead of the rows.",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Rows asked for a page (the hub may answer with fewer).",
)
@handle_errors
def history_command(
    since: str | None,
    until: str | None,
    as_json: bool,
    jsonl: bool,
    as_csv: bool,
    summary: str | None,
    page_size: int,
    **kwargs: Any,
) -> None:
    """Print past generations, newest first, with what each cost; a totals line ends the
    table (count, spend, failure rate: the hub's total for the filters, or with a time
    range the sum of the rows listed, each named).

    Every status unless --status; streamed page after page. Exit 10 when the hub has no
    history (GET /api/ai/generations answers 404/405/501).
    """
    from queue_tui.core.history import time_range
    from queue_tui.headless import run_history

    formats = [name for name, on in (("json", as_json), ("jsonl", jsonl), ("csv", as_csv)) if on]
    if len(formats) > 1:
        click.echo("queue-tui: --json, --jsonl and --csv: choose one", err=True)
        sys.exit(EXIT_USAGE)
    settings = _settings_from(kwargs)
    client, clock = client_and_clock(settings, seed=kwargs["seed"])
    try:
        window = time_range(since, until, clock())
    except ValueError as exc:
        click.echo(f"queue-tui: {clean(str(exc), max_len=300)}", err=True)
        sys.exit(EXIT_USAGE)
    progress = None
    if sys.stderr.isatty():

        def progress(text: str) -> None:
            sys.stderr.write(text)
            sys.stderr.flush()

    async def go() -> int:
        async with client:
            return await run_history(
                client,
                settings,
                write=functools.partial(click.echo, nl=False),
                err=_echo_err,
                output=formats[0] if formats else "table",  # type: ignore[arg-type]
                summary_by=summary,  # type: ignore[arg-type]
                time_range=window,
                page_size=page_size,
                whole=not sys.stdout.isatty(),
                progress=progress,
            )

    sys.exit(_run(go()))


@main.command("serve")
@_connection_options
@_interval_option
@_resolve_limit_option
@click.option(
    "--linger", metavar="SECONDS", help="Seconds finished rows are kept for viewers [default: 600]."
)
@click.option(
    "--bind", default="127.0.0.1:8790", show_default=True, metavar="HOST:PORT", help="Listen here."
)
@click.option(
    "--viewer-token-file",
    type=click.Path(dir_okay=False),
    help="Viewers must send one of these tokens (`name:token` lines) as a Bearer token.",
)
@click.option("--public", is_flag=True, help="Beyond loopback without viewer tokens (anyone).")
@click.option(
    "--allow-actions", is_flag=True, help="Forward cancel, enqueue and retry (logged by viewer)."
)
@handle_errors
def serve_command(
    bind: str, viewer_token_file: str | None, public: bool, allow_actions: bool, **kwargs: Any
) -> None:
    """Team mode: one poller for everyone. Serves the hub's read API (point every
    client's --host at it), /api/events with replay, /healthz and /metrics."""
    from queue_tui.relay.app import (
        BindError,
        ViewerTokenError,
        ViewerTokens,
        check_bind,
        parse_bind,
        serve,
    )
    from queue_tui.relay.state import Relay

    settings = _settings_from(
        kwargs,
        interval=kwargs.get("interval"),
        linger=kwargs.get("linger"),
        resolve_limit=kwargs.get("resolve_limit"),
    )
    try:
        host, port = parse_bind(bind)
        tokens = ViewerTokens.load(viewer_token_file) if viewer_token_file else None
        check_bind(host, tokens=tokens, public=public)
    except (BindError, ViewerTokenError) as exc:
        click.echo(f"queue-tui: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    client, clock = client_and_clock(settings, seed=kwargs["seed"])
    relay = Relay(
        client,
        filters=settings.filters,
        interval=settings.interval,
        linger=settings.linger,
        resolve_limit=settings.resolve_limit,
        clock=clock,
    )
    tune_allocator()  # an all-day process too (core/gc_policy.py)
    serve(relay, host, port, tokens=tokens, allow_actions=allow_actions)
