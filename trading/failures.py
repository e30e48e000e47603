"""The words a trader reads when something failed: one function for every failure.

Any failure the desk shows goes through `failure_text`: the exchange client's errors
(`trading.backpack.errors`: the message and what to do about it), a rule a service refused
(`accounts.errors.ServiceError`: its message), a stored API secret that cannot be opened
(`accounts.crypto.SecretUnavailableError`), and anything unexpected (named, never hidden).
"""

from __future__ import annotations

from accounts.crypto import SecretUnavailableError
from accounts.errors import ServiceError
from trading.backpack.errors import (
    BackpackError,
    ExchangeUnavailableError,
    PermissionDeniedError,
)

# What a read or an action on the exchange may raise: the client's errors, and a subaccount
# secret that cannot be opened (raised at signing time).
EXCHANGE_ERRORS = (BackpackError, SecretUnavailableError)


def failure_text(error: BaseException, *, sentences: bool = False) -> str:
    """What a page shows when a read or an action failed, in a trader's words.

    An exchange error is two sentences, "What failed. What to do."; ``sentences``: without
    the "exchange unreachable:" lead (the withdrawal pages' words, where the text is part of
    a longer message)."""
    if isinstance(error, BackpackError):
        said = f"{_sentence(error.message)} {error.action}".strip()
        if isinstance(error, ExchangeUnavailableError) and not sentences:
            return f"exchange unreachable: {said}"
        return said
    if isinstance(error, ServiceError):
        return error.message
    if isinstance(error, SecretUnavailableError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


# What to do when the exchange refuses a withdrawal, where it differs from the error's own
# advice: the exchange's words already say how to make an address 2FA-exempt.
_WITHDRAWAL_ACTIONS = {
    PermissionDeniedError: (
        "If it is 2FA-exempt there already, check that the subaccount's API key may withdraw."
    ),
}


def refusal_text(error: BackpackError, *, what: str, action: str | None = None) -> str:
    """ "The exchange refused <what>: <its own words>. <What to do.>": the exchange's words
    once, without the lead and API path of the client's message ("The exchange does not allow
    POST /wapi/...: ..."); the client's message when the exchange sent no words."""
    said = error.exchange_message or error.message
    return f"The exchange refused {what}: {_sentence(said)} {action or error.action}".strip()


def withdrawal_refusal_text(error: BackpackError) -> str:
    """The words for a withdrawal the exchange refused (`refusal_text`, withdrawal advice)."""
    action = next((a for kind, a in _WITHDRAWAL_ACTIONS.items() if isinstance(error, kind)), None)
    return refusal_text(error, what="the withdrawal", action=action)


def _sentence(text: str) -> str:
    """`text` ending as a sentence ends (the exchange's own words often do not), so that what
    to do about it reads as the next sentence: "... price band. Correct the order ..."."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def failure_reason(error: BaseException) -> str:
    """What failed, without what to do about it (for a record, or a sentence that goes on to
    say what happens next)."""
    if isinstance(error, BackpackError | ServiceError):
        return error.message
    return failure_text(error)


# The name the trading pages have used for it.
exchange_error_text = failure_text
