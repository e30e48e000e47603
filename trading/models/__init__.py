"""Trading models, one module per concern; each is imported here so Django finds it.

Add one import line per module (tickets, balances, withdrawals, monitoring).
"""

from trading.gateway.models import ScriptKey  # noqa: E402, F401
from trading.models.balances import BalanceSnapshot  # noqa: F401
from trading.models.ledger import (  # noqa: F401
    LedgerCursor,
    LedgerEntry,
    PnlCheckpoint,
    PnlReconciliation,
)
from trading.models.monitoring import (  # noqa: F401
    Alert,
    AlertSeen,
    AlertWebhook,
    ApiCallStat,
    ApiCallTotal,
    Gauge,
    LiveSocketFailure,
    StreamState,
    WebhookDelivery,
)
from trading.models.risk import (  # noqa: F401
    KillProgress,
    RiskBreach,
    RiskDayStart,
    RiskLimit,
    RiskReservation,
)
from trading.models.tickets import OrderTicket  # noqa: F401
from trading.withdrawals.models import (  # noqa: F401
    WithdrawalAddress,
    WithdrawalLimit,
    WithdrawalPolicy,
    WithdrawalRequest,
)
