"""Problems are values: a stable code, the field at fault, and a plain-English message.

The same problem reads the same in a REST 400, a draft card, a Slack message and a spoken reply.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class ServiceError(Exception):
    """Base of every error a service raises on purpose; the API maps each to a status."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(ServiceError):
    """The request cannot be carried out as asked; carries one problem per field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, code: str, field: str, message: str) -> "Invalid":
        return cls([Problem(code, field, message)])


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class PaymentRequired(ServiceError):
    status_code = 402


class Conflict(ServiceError):
    status_code = 409


class NotImplementedYet(ServiceError):
    """A feature that is not built (or not configured) says so plainly."""

    status_code = 501
