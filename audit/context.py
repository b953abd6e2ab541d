"""Request context for audit events, captured once per request (or API call) and read by `record_event`."""

import contextvars
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    token_id: int | None = None


_current = contextvars.ContextVar("ozonseat_audit_context", default=RequestContext())  # noqa: B039 (frozen, immutable)


def get_context() -> RequestContext:
    return _current.get()


def set_context(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)


def update_context(**changes) -> None:
    _current.set(replace(_current.get(), **changes))
