"""The words a trader reads when something failed: one function for every failure.

Any failure the desk shows goes through `failure_text`: the exchange client's errors
(`trading.backpack.errors`: the message and what to do about it), a rule a service refused
(`accounts.errors.ServiceError`: its message), a stored API secret that cannot be opened
(`accounts.crypto.SecretUnavailableError`), and anything unexpected (named, never hidden).
"""

from __future__ import annotations

from accounts.crypto import SecretUnavailableError
from accounts.errors import ServiceError
from trading.backpack.errors import BackpackError, ExchangeUnavailableError

# What a read or an action on the exchange may raise: the client's errors, and a subaccount
# secret that cannot be opened (raised at signing time).
EXCHANGE_ERRORS = (BackpackError, SecretUnavailableError)


def failure_text(error: BaseException, *, sentences: bool = False) -> str:
    """What a page shows when a read or an action failed, in a trader's words.

    ``sentences``: an exchange error as two sentences, "what failed. What to do." (the
    withdrawal pages' words, where the text is part of a longer message)."""
    if sentences and isinstance(error, BackpackError):
        return f"{error.message}. {error.action}"
    if isinstance(error, ExchangeUnavailableError):
        return f"exchange unreachable: {error.message} {error.action}"
    if isinstance(error, BackpackError):
        return f"{error.message} {error.action}".strip()
    if isinstance(error, ServiceError):
        return error.message
    if isinstance(error, SecretUnavailableError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


def failure_reason(error: BaseException) -> str:
    """What failed, without what to do about it (for a record, or a sentence that goes on to
    say what happens next)."""
    if isinstance(error, BackpackError | ServiceError):
        return error.message
    return failure_text(error)


# The name the trading pages have used for it.
exchange_error_text = failure_text
