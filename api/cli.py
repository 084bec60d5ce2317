"""The `cody` command: serve, worker, migrate, admin."""

import json
import os
import signal

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape

from api.settings import api_settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker, transaction

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cody: the assistant behind your business line.")
admin = typer.Typer(no_args_is_help=True, help="Workspace administration.")
app.add_typer(admin, name="admin")
console = Console(stderr=True)


def _factory():
    return make_sessionmaker(make_engine(api_settings().database_url))


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    upgrade(api_settings().database_url)
    console.print("Schema is up to date.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    demo: bool = typer.Option(False, help="Seed a demo workspace first and print its API key"),
    no_dispatcher: bool = typer.Option(False, "--no-dispatcher", help="Leave sending to `cody worker` processes"),
) -> None:
    """Run migrations and serve the API (with the dispatcher in-process unless --no-dispatcher)."""
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    if no_dispatcher:
        os.environ["RUN_DISPATCHER"] = "false"
    settings = api_settings()
    upgrade(settings.database_url)
    if demo:
        from tools.demo import seed_demo

        with transaction(_factory()) as session:
            info = seed_demo(session)
        _print_demo(info, host, port)
    from api.app import create_app

    app = create_app()
    if demo:
        app.state.demo_api_key = info.api_key  # the web page signs the demo in by itself (api/web.py)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())


def _print_demo(info, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    # soft_wrap: never break a line at the console width (80 when stderr is not a terminal), so the key
    # and the curl command stay whole and copyable in logs.
    def say(text: str) -> None:
        console.print(text, soft_wrap=True)

    say(f"[bold]Demo workspace ready[/bold] ({'created' if info.created else 'existing'}): {info.organization_id}")
    say(f"Business line (sandbox): {info.number}")
    say(f"API key: [bold]{info.api_key}[/bold]")
    say(f"Try: curl -u {info.api_key}: {base}/api/v1/me/")
    say(f"Open {base}/ in a browser: the demo signs in by itself.")
    say(f"Or ask Cody: curl -u {info.api_key}: -H 'Content-Type: application/json' "
        f"-d '{{\"text\": \"text Sarah I am running late\"}}' {base}/api/chat/messages")


@app.command()
def worker(
    once: bool = typer.Option(False, help="Send what is due now, then exit"),
    poll: float = typer.Option(0.5, help="Seconds between looks for due messages when idle"),
) -> None:
    """Run the dispatcher alone (scaled deployments run several against one PostgreSQL)."""
    from tools.runtime import build_runtime
    from tools.settings import telephony_settings

    runtime = build_runtime(telephony_settings(), _factory(), poll_seconds=poll)
    if once:
        console.print(f"Sent {runtime.dispatcher.drain()} due message(s).")
        return
    signal.signal(signal.SIGTERM, lambda *_: runtime.dispatcher.stop())
    console.print(f"Worker {runtime.dispatcher.worker_id} dispatching (Ctrl-C to stop).")
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

    upgrade(api_settings().database_url)
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
