"""Exception and warning tree of credit-engine.

Every error the engine raises on purpose derives from :class:`CreditEngineError`.
Each class carries a stable machine-readable ``code`` and the HTTP status an API
adapter should answer with, so that one handler can map all of them (client
mistakes are 4xx, never 500). Messages are written to be safe to show to a client:
they name what failed, the offending names, expected versus got, and how to fix it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

__all__ = [
    "ApiKeyNotFoundError",
    "AuditEntryNotFoundError",
    "AuditError",
    "AuthenticationError",
    "ConfigurationError",
    "CreditEngineError",
    "CreditEngineWarning",
    "CsrfRefusedError",
    "DataContractError",
    "DateOutOfRangeError",
    "EarlyWarningError",
    "EarlyWarningNotFoundError",
    "EngineUnavailableError",
    "EnterpriseNotFoundError",
    "IngestionError",
    "InvalidKeyRequestError",
    "InvalidUsccError",
    "ModelNotFoundError",
    "NoRatingsError",
    "OverrideError",
    "OverrideNotFoundError",
    "PermissionDeniedError",
    "PolicyNotFoundError",
    "PromotionRefusedError",
    "RateLimitedError",
    "ReportError",
    "ServiceUnavailableError",
    "SessionExpiredError",
    "SimulationError",
    "StoreError",
    "StoreUnavailableError",
    "TooManyAttemptsError",
    "WarningTransitionError",
]


class CreditEngineError(Exception):
    """Root of every error raised on purpose by credit-engine.

    Parameters
    ----------
    message : str
        Human-readable explanation: what failed and how to fix it.

    Attributes
    ----------
    code : str
        Stable identifier of the error kind, e.g. ``"data_contract"``.
    http_status : int
        Status an HTTP adapter should return for this error.
    """

    code: str = "credit_engine_error"
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CreditEngineWarning(UserWarning):
    """Base class of warnings emitted by credit-engine."""


class ConfigurationError(CreditEngineError):
    """A setting or definition file is missing, malformed or inconsistent."""

    code = "configuration"
    http_status = 500


class EngineUnavailableError(ConfigurationError):
    """The execution engine chosen (``--engine spark``) cannot run here.

    The message names what is missing (the ``pyspark`` package, a Java runtime,
    the cluster) and how to provide it.
    """

    code = "engine_unavailable"
    http_status = 503


class DataContractError(CreditEngineError):
    """Input records do not fit a record contract as a whole (file, table, column).

    Row-level problems never raise: they send the row to quarantine with a reason
    code. This error is for problems that make a whole batch unloadable, such as an
    unknown table, a missing required column or an unreadable file.
    """

    code = "data_contract"
    http_status = 422


class DateOutOfRangeError(DataContractError):
    """A rating date outside the dates the data and the rule sets cover.

    The message names the covered range (first and last date that can be rated).
    """

    code = "date_out_of_range"
    http_status = 422


class IngestionError(CreditEngineError):
    """An ingestion run failed; nothing of its batch was committed to the lake."""

    code = "ingestion"
    http_status = 500


class InvalidUsccError(CreditEngineError, ValueError):
    """A Unified Social Credit Code fails the GB 32100-2015 checks."""

    code = "invalid_uscc"
    http_status = 422


class SimulationError(CreditEngineError, ValueError):
    """The synthetic-zone simulator was given parameters it cannot honour."""

    code = "simulation"
    http_status = 422


class ModelNotFoundError(CreditEngineError):
    """No registered model, version or alias by that name.

    Scoring without a champion is a service condition (the API answers 503);
    asking for a version that does not exist is a client mistake (404).
    """

    code = "model_not_found"
    http_status = 404


class PolicyNotFoundError(CreditEngineError):
    """No treatment policy by that name or version under ``models/policies``."""

    code = "policy_not_found"
    http_status = 404


class PromotionRefusedError(CreditEngineError):
    """A promotion gate failed, so the ``champion`` alias was not moved.

    Attributes
    ----------
    result : object
        The promotion result with every gate's outcome (for display).
    """

    code = "promotion_refused"
    http_status = 409

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class StoreError(CreditEngineError):
    """The operational store refused or failed a read or write.

    Raised for rating runs or decisions that do not fit the store's schema
    (unknown tier, missing column ...) and for database failures; the original
    database exception is chained as ``__cause__`` for the logs, and the message
    never repeats SQL or parameters.
    """

    code = "store_error"
    http_status = 500


class StoreUnavailableError(StoreError):
    """The operational store cannot take reads or writes now (locked, down, read-only).

    A condition of the service, not of the request: the API answers 503 with a
    ``Retry-After`` header, and the request can be sent again unchanged. The
    database's own error is chained as ``__cause__`` and logged; the message
    never names the database's path or URL.

    Parameters
    ----------
    message : str
        What could not be done and why, in words safe to show to a client.
    retry_after : float, default=1.0
        Seconds after which a retry may succeed.
    reason : str, default="unavailable"
        Short cause for readiness reports ("locked", "read-only", ...).
    """

    code = "store_unavailable"
    http_status = 503

    def __init__(
        self, message: str, *, retry_after: float = 1.0, reason: str = "unavailable"
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.reason = reason


class RateLimitedError(CreditEngineError):
    """An API key sent more requests, or more at once, than its role's limits allow.

    Parameters
    ----------
    message : str
        Which limit was reached (rate or concurrency), its value, and when to retry.
    retry_after : float
        Seconds until the request would be admitted (the ``Retry-After`` header).
    """

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverrideError(CreditEngineError):
    """A manual tier override was rejected: bad tier, dates, USCC or reason."""

    code = "invalid_override"
    http_status = 422


class OverrideNotFoundError(OverrideError):
    """No override with that id exists in the operational store."""

    code = "override_not_found"
    http_status = 404


class NoRatingsError(CreditEngineError):
    """No rating run was recorded for the requested rating date.

    Parameters
    ----------
    message : str
        Names the date without ratings and the dates that have some.
    as_of : datetime.date or None, default=None
        The requested rating date.
    available : sequence of datetime.date, default=()
        Rating dates that do have a run, oldest first.

    Attributes
    ----------
    as_of : datetime.date or None
        The requested rating date.
    available : tuple of datetime.date
        Rating dates that do have a run, oldest first.
    """

    code = "no_ratings"
    http_status = 404

    def __init__(
        self,
        message: str,
        *,
        as_of: datetime.date | None = None,
        available: Sequence[datetime.date] = (),
    ) -> None:
        super().__init__(message)
        self.as_of = as_of
        self.available = tuple(available)


class EnterpriseNotFoundError(CreditEngineError):
    """No enterprise with that USCC is known to the zone at the date asked."""

    code = "enterprise_not_found"
    http_status = 404


class ServiceUnavailableError(CreditEngineError):
    """The service cannot answer now (no model loaded, too busy); the message says why.

    Parameters
    ----------
    message : str
        Why, and what to do.
    retry_after : float or None, default=None
        Seconds after which a retry may succeed (the ``Retry-After`` header).
    """

    code = "service_unavailable"
    http_status = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuditError(CreditEngineError):
    """An audit-log entry or request was rejected: bad kind, actor, payload or paging.

    Tampering found in a stored log is not an error: :meth:`AuditLog.verify
    <credit_engine.audit.AuditLog.verify>` reports it as problems.
    """

    code = "invalid_audit_entry"
    http_status = 422


class AuditEntryNotFoundError(AuditError):
    """No audit-log entry has that sequence number."""

    code = "audit_entry_not_found"
    http_status = 404


class AuthenticationError(CreditEngineError):
    """An API key is missing, malformed, unknown or revoked.

    The message never repeats the key (nor any part of it).
    """

    code = "unauthenticated"
    http_status = 401


class PermissionDeniedError(CreditEngineError):
    """An authenticated API key lacks the role an action needs.

    The message names the roles that may act and the role the key holds.
    """

    code = "forbidden"
    http_status = 403


class InvalidKeyRequestError(CreditEngineError):
    """An API key could not be created or revoked: bad name or role, name taken."""

    code = "invalid_key_request"
    http_status = 422


class ApiKeyNotFoundError(InvalidKeyRequestError):
    """No API key has that name or id."""

    code = "api_key_not_found"
    http_status = 404


# ----------------------------------------------- console (issue 13)
class SessionExpiredError(AuthenticationError):
    """A console session ended: signed out, expired, or its key was revoked."""

    code = "session_expired"
    http_status = 401


class TooManyAttemptsError(AuthenticationError):
    """Too many failed console sign-ins from one name or address; wait and retry."""

    code = "too_many_attempts"
    http_status = 429


class CsrfRefusedError(PermissionDeniedError):
    """A console form came without its session's CSRF token, or from another site."""

    code = "csrf_refused"
    http_status = 403


# ------------------------------------------- end console (issue 13)
# ------------------------------------------------------------ early warnings
class EarlyWarningError(CreditEngineError):
    """An early-warning request was rejected: unknown signal, empty note, bad paging."""

    code = "invalid_warning_request"
    http_status = 422


class EarlyWarningNotFoundError(EarlyWarningError):
    """No early warning has that id."""

    code = "warning_not_found"
    http_status = 404


class WarningTransitionError(EarlyWarningError):
    """A warning cannot move to the status asked from the status it is in.

    The lifecycle is new → acknowledged → closed (or new → closed); a closed
    warning never moves again, and a status is never entered twice. The message
    names the warning, its status, who set it and when.
    """

    code = "warning_transition_refused"
    http_status = 409


# -- zone statistics (issue 12) ------------------------------------------------
class ReportError(CreditEngineError, ValueError):
    """A report cannot be produced as asked: bad range, period or reference data."""

    code = "invalid_report_request"
    http_status = 422


# -- end zone statistics -------------------------------------------------------
