"""Every table, importable from one place (Alembic and the services use this)."""

from db.models.activity import Activity
from db.models.assistant import (
    Conversation,
    ConversationMessage,
    Draft,
    VoiceCommandSession,
)
from db.models.crm import Contact, ContactEmail, ContactPhone, Lead
from db.models.inbox import InboxItem, OptOut, Thread
from db.models.messaging import SmsTemplate, WebhookReceipt
from db.models.phone import PhoneNumber, WalletEntry
from db.models.workspace import (
    ApiKey,
    AppSecret,
    Membership,
    Organization,
    RateLimitBucket,
    User,
)

__all__ = [
    "Activity",
    "ApiKey",
    "AppSecret",
    "Contact",
    "ContactEmail",
    "ContactPhone",
    "Conversation",
    "ConversationMessage",
    "Draft",
    "InboxItem",
    "Lead",
    "Membership",
    "OptOut",
    "Organization",
    "PhoneNumber",
    "RateLimitBucket",
    "SmsTemplate",
    "Thread",
    "User",
    "VoiceCommandSession",
    "WalletEntry",
    "WebhookReceipt",
]
