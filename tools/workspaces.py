"""Workspaces, their users and API keys (stored hashed; the plain key is shown once)."""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ApiKey, Membership, Organization, User
from tools.context import Ctx
from tools.problems import Invalid

ADMIN_PERMISSIONS = ["numbers_create", "numbers_delete", "wallet_credit", "templates_manage"]


@dataclass(frozen=True)
class NewWorkspace:
    organization_id: str
    user_id: str
    api_key: str


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def create_api_key(session: Session, organization_id: str, user_id: str) -> str:
    """Store a new key's hash and return the plain key (the only time it is visible)."""
    plain = "cody_" + secrets.token_urlsafe(32)
    session.add(ApiKey(organization_id=organization_id, user_id=user_id, key_hash=hash_key(plain), prefix=plain[:9]))
    return plain


def create_user(session: Session, email: str, first_name: str = "", last_name: str = "") -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise Invalid.one("invalid_email", "email", f"{email!r} is not an email address.")
    if session.scalar(select(User).where(User.email == email)):
        raise Invalid.one("duplicate_email", "email", f"A user with email {email} already exists.")
    user = User(email=email, first_name=first_name, last_name=last_name)
    session.add(user)
    return user


def add_member(session: Session, organization_id: str, user: User, role: str = "member", permissions=()) -> Membership:
    membership = Membership(organization_id=organization_id, user_id=user.id, role=role, permissions=list(permissions))
    session.add(membership)
    return membership


def create_organization(session: Session, name: str, email: str, first_name: str = "", last_name: str = "",
                        timezone: str = "America/New_York") -> NewWorkspace:
    """A workspace, its first admin and an API key for that admin."""
    if not name.strip():
        raise Invalid.one("required", "name", "A workspace name is required.")
    org = Organization(name=name.strip(), timezone=timezone)
    session.add(org)
    user = create_user(session, email, first_name, last_name)
    session.flush()
    add_member(session, org.id, user, role="admin", permissions=ADMIN_PERMISSIONS)
    key = create_api_key(session, org.id, user.id)
    session.flush()
    return NewWorkspace(organization_id=org.id, user_id=user.id, api_key=key)


def authenticate(session: Session, api_key: str) -> Ctx | None:
    """The caller's context for a key, or None when the key is unknown or revoked."""
    row = session.execute(
        select(ApiKey, Membership)
        .join(Membership, (Membership.user_id == ApiKey.user_id) & (Membership.organization_id == ApiKey.organization_id))
        .where(ApiKey.key_hash == hash_key(api_key), ApiKey.revoked.is_(False))
    ).first()
    if row is None:
        return None
    key, membership = row
    return Ctx(
        organization_id=key.organization_id,
        user_id=key.user_id,
        channel="api",
        permissions=frozenset(membership.permissions or ()),
        role=membership.role,
    )


def members(session: Session, organization_id: str) -> list[User]:
    return list(
        session.scalars(select(User).join(Membership).where(Membership.organization_id == organization_id).order_by(User.date_created))
    )
