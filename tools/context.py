"""Who is acting, for which workspace, through which channel."""

from dataclasses import dataclass, field

CHANNELS = ("chat", "slack", "voice", "card", "api", "job", "webhook", "cli")


@dataclass(frozen=True)
class Ctx:
    organization_id: str
    user_id: str | None
    channel: str = "api"
    idempotency_key: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    role: str = "member"

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions
