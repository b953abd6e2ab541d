"""Errors raised by services. Each carries a stable code and a translated message; the dashboard shows
the message, the API turns it into problem details (403, 404, 409, 400)."""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    code = "error"
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, field: str | None = None, code: str | None = None):
        self.message = message if message is not None else self.default_message
        self.field = field
        if code:
            self.code = code
        super().__init__(str(self.message))


class NotAllowed(ServiceError):
    """The actor may not do this. `permission` names the missing permission, for the record of the denial."""

    code = "not_allowed"
    default_message = _("You do not have permission to do this.")

    def __init__(self, message=None, *, permission: str = "", **kwargs):
        self.permission = permission
        super().__init__(message, **kwargs)


class NotFound(ServiceError):
    """Does not exist, or is not the actor's to see: both answer the same."""

    code = "not_found"
    default_message = _("Not found.")


class Conflict(ServiceError):
    """The request is valid but clashes with the current state (already a member, not suspended, ...)."""

    code = "conflict"
    default_message = _("This conflicts with the current state.")


class InvalidInput(ServiceError):
    """Bad input. `errors` maps field names to lists of messages."""

    code = "invalid"
    default_message = _("Please correct the errors below.")

    def __init__(self, errors: dict | None = None, message=None, *, field=None, code=None):
        super().__init__(message, field=field, code=code)
        self.errors = errors or ({field: [self.message]} if field else {})
