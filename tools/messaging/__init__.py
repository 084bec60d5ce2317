"""The one path for every outbound SMS/MMS and template render: prepare (check) then execute (save, deliver)."""

from tools.messaging.request import Attachment, Prepared, SendRequest
from tools.messaging.service import Messaging

__all__ = ["Attachment", "Messaging", "Prepared", "SendRequest"]
