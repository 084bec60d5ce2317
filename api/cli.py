"""The `cody` command: serve, worker, migrate, admin."""

import ipaddress
import json
import os
import signal
from typing import NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from api.heap import settle_heap
from api.logs import configure_logging
from api.settings import ApiSettings, api_settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker, transaction
from tools.settings import ConfigurationError, TelephonySettings, configuration_error, telephony_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cody: the assistant behind your business line.")
admin = typer.Typer(no_args_is_help=True, help="Workspace administration.")
app.add_typer(admin, name="admin")
console = Console(stderr=True)


def _factory():
    return make_sessionmaker(make_engine(api_settings().database_url))


def _refuse(message: str) -> NoReturn:
    """Stop before doing anything, with a message naming the setting and the fix (exit code 2, as for bad options)."""
    console.print(f"[red]Cody can't start: {escape(message)}[/red]", soft_wrap=True)
    raise typer.Exit(2)


def _settings() -> ApiSettings:
    try:
        return api_settings()
    except ValidationError as exc:
        _refuse(str(configuration_error(exc)))


def _telephony() -> TelephonySettings:
    try:
        return telephony_settings()
    except ValidationError as exc:
        _refuse(str(configuration_error(exc)))


def _start_runtime(telephony: TelephonySettings, factory, poll_seconds: float):
    from tools.runtime import start_runtime  # the carrier SDKs load only for the commands that send

    try:
        return start_runtime(telephony, factory, poll_seconds=poll_seconds)
    except ConfigurationError as exc:
        _refuse(str(exc))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    upgrade(_settings().database_url)
    console.print("Schema is up to date.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    demo: bool = typer.Option(False, help="Seed a demo workspace first and print its API key (sandbox line only)"),
    no_dispatcher: bool = typer.Option(False, "--no-dispatcher", help="Leave sending to `cody worker` processes"),
) -> None:
    """Run migrations and serve the API (with the dispatcher in-process unless --no-dispatcher)."""
    if no_dispatcher:
        os.environ["RUN_DISPATCHER"] = "false"
    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    telephony = _telephony()
    if demo and telephony.uses_twilio:
        _refuse("--demo runs on the sandbox line and signs the web page in with an admin key, so it does not run "
                "with Twilio credentials. Unset TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to try the demo, or run "
                "`cody serve` without --demo.")
    if not telephony.uses_twilio and "public_base_url" not in telephony.model_fields_set:
        # The sandbox calls this server back; Twilio mode needs PUBLIC_BASE_URL set (checked by start_runtime).
        telephony = telephony.model_copy(update={"public_base_url": f"http://{host}:{port}"})
    factory = _factory()
    runtime = _start_runtime(telephony, factory, settings.dispatcher_poll_seconds)
    upgrade(settings.database_url)
    if demo:
        from tools.demo import seed_demo

        with transaction(factory) as session:
            info = seed_demo(session)
        _print_demo(info, host, port)
    from api.app import create_app

    app = create_app(settings, factory, runtime)
    if demo:
        # The web page signs the demo in by itself, but only for a browser on this machine (api/web.py).
        app.state.demo_api_key = info.api_key
    settle_heap()
    # log_config=None: uvicorn's own records go through the handler configure_logging installed.
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), log_config=None)


def _print_demo(info, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    # soft_wrap: never break a line at the console width (80 when stderr is not a terminal), so the key
    # and the curl command stay whole and copyable in logs.
    def say(text: str) -> None:
        console.print(text, soft_wrap=True)

    say(f"[bold]Demo workspace ready[/bold] ({'created' if info.created else 'existing'}): {info.organization_id}")
    say(f"Business line (sandbox): {info.number}")
    say(f"API key: [bold]{info.api_key}[/bold]")
    if info.revoked:
        say(f"Revoked the demo's earlier keys ({info.revoked}): only this one works now.")
    say(f"Try: curl -u {info.api_key}: {base}/api/v1/me/")
    if _is_loopback(host):
        say(f"Open {base}/ in a browser: the demo signs in by itself.")
    else:
        say(f"Open the page in a browser on this machine (http://127.0.0.1:{port}/) and it signs in by itself; "
            "from anywhere else, paste the key above.")
    say(f"Or ask Cody: curl -u {info.api_key}: -H 'Content-Type: application/json' "
        f"-d '{{\"text\": \"text Sarah I am running late\"}}' {base}/api/chat/messages")


@app.command()
def worker(
    once: bool = typer.Option(False, help="Send what is due now, then exit"),
    poll: float = typer.Option(0.5, help="Seconds between looks for due messages when idle"),
) -> None:
    """Run the dispatcher alone (scaled deployments run several against one PostgreSQL)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_json)
    runtime = _start_runtime(_telephony(), _factory(), poll)
    if once:
        console.print(f"Sent {runtime.dispatcher.drain()} due message(s).")
        return
    settle_heap()
    signal.signal(signal.SIGTERM, lambda *_: runtime.dispatcher.stop())
    console.print(f"Worker {runtime.dispatcher.worker_id} dispatching, up to {runtime.dispatcher.concurrency} carrier "
                  "calls at a time (Ctrl-C to stop).")
    try:
        runtime.dispatcher.run_forever()
    except KeyboardInterrupt:
        runtime.dispatcher.stop()


@app.command()
def bench(
    quick: bool = typer.Option(False, help="Small sizes, for a smoke run in CI (asserts nothing about speed)"),
    only: list[str] = typer.Option([], help="Run only these modules (e.g. bench_text)"),
    runs: int | None = typer.Option(None, help="Runs per benchmark, medians printed (default 3; 1 with --quick)"),
) -> None:
    """Run the benchmarks (bench/) and print one table: `python -m bench` with the same options."""
    try:
        from bench.__main__ import main as bench_main
    except ImportError:
        console.print("[red]The benchmarks are not installed here: run from a checkout (bench/ beside api/).[/red]")
        raise typer.Exit(2) from None
    bench_main(quick=quick, only=only, runs=runs)


@admin.command("create-org")
def create_org(
    name: str = typer.Option(..., help="Workspace name"),
    email: str = typer.Option(..., help="Email of its first admin"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only"),
) -> None:
    """Create a workspace, its first admin user and an API key."""
    from tools.problems import Invalid
    from tools.workspaces import create_organization

    upgrade(_settings().database_url)
    try:
        with transaction(_factory()) as session:
            ws = create_organization(session, name, email)
    except Invalid as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")  # the message quotes user input
        raise typer.Exit(2) from None
    result = {"organization_id": ws.organization_id, "user_id": ws.user_id, "api_key": ws.api_key}
    if as_json:
        typer.echo(json.dumps(result))
    else:
        console.print(result)


@admin.command("credit")
def credit(
    org: str = typer.Option(..., "--org", help="Workspace id (orga_...)"),
    amount: str = typer.Option(..., help="Dollars to add, e.g. 25 or 25.50"),
    reference: str = typer.Option(..., help="The payment it comes from (an invoice or payment id), kept in the ledger"),
    reason: str = typer.Option("Payment", help="What the workspace's ledger shows"),
) -> None:
    """Add wallet credit a workspace paid for (with Twilio, admins can't add credit themselves)."""
    from tools.problems import Invalid, NotFound
    from tools.wallet import add_credit, money, parse_amount

    upgrade(_settings().database_url)
    try:
        with transaction(_factory()) as session:
            entry = add_credit(session, org, parse_amount(amount), reason.strip() or "Payment", reference=reference)
            console.print(f"Added ${money(entry.amount)} to {escape(org)}: balance ${money(entry.balance_after)}.")
    except (Invalid, NotFound) as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None


if __name__ == "__main__":  # `python -m api.cli ...`, as `cody ...`
    app()
