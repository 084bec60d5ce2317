"""The web page: chat with Cody, contacts, Inbox, calls and settings.

The server side is thin on purpose. `GET /` renders one static shell (the layout, and whether the sandbox panel
shows); api/static/app.js does the rest with fetch() against the JSON APIs, sending the API key the person typed
as `Authorization: Bearer <key>`. Two small JSON routes help the page: `/api/web/config` (which line and planner
this server runs) and `/api/web/contacts/` (contacts searched by name, lead, phone or email, paged like Close).

A key is put into the page only when the app was started with `cody serve --demo` (app.state.demo_api_key), so the
demo signs in by itself, and only for a browser on the server's own machine: a loopback client address (as uvicorn
reports it, after X-Forwarded-For from a trusted local proxy) that asked for a loopback host (so a web site whose
name was re-pointed at 127.0.0.1 cannot read it either). Any other visitor gets the page without it, and a server not
started with --demo never puts a key in it.
"""

import ipaddress
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import contains_eager

from api.deps import CurrentCtx, SessionDep
from api.v1.params import PageDep
from api.v1.shapes import contact_json, page_json
from db.models import Contact, ContactEmail, ContactPhone, Lead
from tools.paging import fetch_page
from tools.problems import NotFound

router = APIRouter(include_in_schema=False)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
STATIC = HERE / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

# The page loads only its own script and style and talks only to this origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_sandbox(request: Request) -> bool:
    runtime = getattr(request.app.state, "runtime", None)
    return getattr(getattr(runtime, "provider", None), "name", None) == "sandbox"


def _loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def from_this_machine(request: Request) -> bool:
    """Whether a loopback client asked for a loopback host (never true for a request that names no client)."""
    return bool(request.client) and _loopback(request.client.host) and _loopback(request.url.hostname or "")


@router.get("/", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    demo_key = (getattr(request.app.state, "demo_api_key", None) or None) if from_this_machine(request) else None
    response = templates.TemplateResponse(request, "index.html", {"sandbox": is_sandbox(request), "demo_key": demo_key})
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    """One file of api/static (no folders, no dot-files)."""
    path = STATIC / name
    if not re.fullmatch(r"[A-Za-z0-9_-]+\.[a-z]+", name) or path.suffix not in STATIC_TYPES or not path.is_file():
        raise NotFound("Not found.")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "no-cache",
                                                                            "X-Content-Type-Options": "nosniff"})


@router.get("/api/web/config")
def config(request: Request, ctx: CurrentCtx) -> dict:
    assistant = getattr(request.app.state, "assistant", None)
    planner = getattr(getattr(assistant, "planner", None), "name", None)
    return {"sandbox": is_sandbox(request), "planner": planner}


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@router.get("/api/web/contacts/")
def search_contacts(session: SessionDep, ctx: CurrentCtx, page: PageDep,
                    query: Annotated[str | None, Query(max_length=200)] = None) -> dict:
    """The workspace's contacts by name (A to Z), optionally those whose name, lead, phone or email contains `query`."""
    # Each contact's lead from the join the search already makes (its name is shown beside the contact's).
    stmt = (select(Contact).join(Contact.lead).options(contains_eager(Contact.lead))
            .where(Contact.organization_id == ctx.organization_id))
    text = (query or "").strip()
    if text:
        words = _like(text)
        conditions = [Contact.name.ilike(words, escape="\\"), Lead.name.ilike(words, escape="\\"),
                      exists().where(ContactEmail.contact_id == Contact.id,
                                     ContactEmail.email.ilike(words, escape="\\"))]
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3:
            conditions.append(exists().where(ContactPhone.contact_id == Contact.id,
                                             ContactPhone.organization_id == ctx.organization_id,
                                             ContactPhone.phone.like(f"%{digits}%")))
        stmt = stmt.where(or_(*conditions))
    result = fetch_page(session, stmt.order_by(Contact.name, Contact.id), page)
    items = []
    for contact in result.items:
        item = contact_json(contact)
        item["lead_name"] = contact.lead.name if contact.lead else None
        items.append(item)
    return page_json(items, result.has_more)
