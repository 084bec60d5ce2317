"""The FastAPI application: routers, error shapes, path normalisation, and the in-process dispatcher."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from api import chat, errors, limits, ratelimit, sandbox, slack, voice, web
from api.heap import settle_heap
from api.logs import configure_logging
from api.paths import NormalisePath
from api.settings import ApiSettings, api_settings
from api.v1 import activities, calls, crm, inbox, me, numbers, sms, sms_templates, wallet
from api.webhooks import twilio_sms, twilio_voice
from assistant.service import Assistant
from assistant.settings import assistant_settings
from assistant.setup import build_assistant
from db.session import make_engine, make_sessionmaker
from tools.runtime import Runtime, start_runtime
from tools.settings import telephony_settings

log = logging.getLogger("cody.api")

# In the order they are matched. Each router gets its prefix here, where it is included: FastAPI checks every route
# of a router included without one, building each route's dependencies up front, which was nine tenths of building
# the app (72 ms; a test builds one per test). The web page's four routes share no prefix.
ROUTERS = (
    *(("/api/v1", module.router) for module in (me, crm, sms, sms_templates, numbers, wallet, inbox, calls, activities)),
    ("/api/webhooks/twilio", twilio_sms.router),
    ("/api/chat", chat.router),
    ("/api/slack", slack.router),
    ("", web.router),
    ("/api/webhooks/twilio", twilio_voice.router),
    ("/api/voice", voice.router),
    ("/api/sandbox", sandbox.router),
)


def create_app(settings: ApiSettings | None = None, factory: sessionmaker[Session] | None = None,
               runtime: Runtime | None = None, assistant: Assistant | None = None) -> FastAPI:
    own_process = settings is None
    if own_process:
        # The process's own app (`uvicorn api.app:create_app --factory`): its logs are set up as `cody serve` sets
        # them up, before the startup checks below log anything, and its heap is settled once it has started.
        # `cody serve` does both itself and passes its settings.
        settings = api_settings()
        configure_logging(settings.log_level, settings.log_json)
    if factory is None:
        factory = make_sessionmaker(make_engine(settings.database_url))
    # Without a runtime given, this is a serving process: its telephony settings are checked and its carrier logged.
    runtime = runtime or start_runtime(telephony_settings(), factory, poll_seconds=settings.dispatcher_poll_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.run_dispatcher:
            runtime.dispatcher.start()
        if own_process:
            settle_heap()
        yield
        runtime.dispatcher.stop()

    app = FastAPI(title="Cody", version="0.1.0", lifespan=lifespan,
                  description="Cody's API: Close-compatible REST v1, chat, and Twilio webhooks.")
    app.state.settings = settings
    app.state.factory = factory
    app.state.runtime = runtime
    app.state.assistant = assistant or build_assistant(runtime.messaging, assistant_settings())
    errors.install(app)

    for prefix, router in ROUTERS:
        app.include_router(router, prefix=prefix)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        return {"status": "ok"}

    app.add_middleware(limits.BodyLimit, overrides={"/api/voice/commands": voice.MAX_AUDIO_BYTES + 1_000_000})
    app.add_middleware(ratelimit.RateLimit)
    app.add_middleware(NormalisePath)
    return app
