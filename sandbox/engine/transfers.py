"""Deposits and withdrawals (mixed into :class:`~sandbox.engine.engine.Engine`).

A deposit credits ``available`` at once (status ``confirmed``).  A withdrawal debits the
quantity plus the token's fee at once (the fee goes to the exchange's fee account) and
stays ``pending`` until :meth:`confirm_withdrawal` (the server confirms it after a delay).
Withdrawing collateral is limited by the margin the account's perpetual exposure needs.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from . import errors
from .errors import EngineError, bad_request, not_found
from .ledger import Account
from .markets import CONTEXT, ZERO
from .orders import us_to_iso
from .parsing import parse_decimal, parse_int_id

_CONTEXT = CONTEXT


class TransfersMixin:
    """Ledger operations that move funds in and out of the exchange."""

    def deposit(
        self,
        subaccount_id: int,
        symbol: str,
        quantity: Decimal | str,
        *,
        blockchain: str | None = None,
        from_address: str | None = None,
        transaction_hash: str | None = None,
        at_us: int | None = None,
    ) -> dict[str, Any]:
        """Credit ``quantity`` of ``symbol``; returns the spec's ``Deposit`` (confirmed),
        dated now or at ``at_us`` (the seeded balances: where the market history starts)."""
        with localcontext(_CONTEXT):
            self._begin()
            asset = self._asset(symbol)
            amount = parse_decimal(quantity, "quantity")
            account = self._account(subaccount_id)
            if blockchain is not None and asset.tokens and asset.token(blockchain) is None:
                raise bad_request("Invalid blockchain")
            account.balance(asset.symbol).available += amount
            self._last_transfer_id += 1
            record: dict[str, Any] = {
                "id": self._last_transfer_id,
                "source": blockchain.lower() if blockchain else "administrator",
                "status": "confirmed",
                "symbol": asset.symbol,
                "quantity": format(amount, "f"),
                "createdAt": us_to_iso(self._now if at_us is None else at_us),
                "_us": self._now if at_us is None else at_us,
            }
            if from_address is not None:
                record["fromAddress"] = from_address
            if transaction_hash is not None:
                record["transactionHash"] = transaction_hash
            account.deposits.append(record)
            return {k: v for k, v in record.items() if not k.startswith("_")}

    def request_withdrawal(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        quantity: Decimal | str,
        blockchain: str,
        address: str,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Debit ``quantity`` plus the token's withdrawal fee (fee to the fee account);
        returns the spec's ``Withdrawal`` with status ``pending``."""
        with localcontext(_CONTEXT):
            self._begin()
            asset = self._asset(symbol)
            amount = parse_decimal(quantity, "quantity")
            account = self._account(subaccount_id)
            token = asset.token(blockchain) if isinstance(blockchain, str) else None
            if asset.tokens and token is None:
                raise bad_request("Invalid blockchain")
            if not isinstance(address, str) or not address:
                raise bad_request("Invalid address")
            fee = token.withdrawal_fee if token is not None else ZERO
            if token is not None:
                if not token.withdraw_enabled:
                    raise EngineError(400, "FORBIDDEN", "Withdrawals are disabled for this asset")
                if amount < token.minimum_withdrawal:
                    raise bad_request("Quantity is below the minimum withdrawal")
                if token.maximum_withdrawal is not None and amount > token.maximum_withdrawal:
                    raise bad_request("Quantity is above the maximum withdrawal")
            if amount + fee > self._max_withdrawal(account, asset.symbol):
                raise errors.insufficient_funds()
            balance = account.balance(asset.symbol)
            balance.available -= amount + fee
            self._fee_account.balance(asset.symbol).available += fee
            self._last_transfer_id += 1
            record: dict[str, Any] = {
                "id": self._last_transfer_id,
                "blockchain": blockchain,
                "quantity": format(amount, "f"),
                "fee": format(fee, "f"),
                "symbol": asset.symbol,
                "status": "pending",
                "subaccountId": subaccount_id,
                "toAddress": address,
                "createdAt": us_to_iso(self._now),
                "isInternal": False,
                "_us": self._now,
            }
            if client_id is not None:
                record["clientId"] = str(client_id)
            account.withdrawals.append(record)
            return {k: v for k, v in record.items() if not k.startswith("_")}

    def _max_withdrawal(self, account: Account, symbol: str) -> Decimal:
        balance = account.balances.get(symbol)
        available = balance.available if balance is not None else ZERO
        weight = self._weight(symbol)
        if weight and self._has_perp_exposure(account):
            price = self._asset_price(symbol) * weight
            if price:
                available = min(available, self._equity_available(account) / price)
        return max(available, ZERO)

    def confirm_withdrawal(self, withdrawal_id: int | str) -> dict[str, Any]:
        """Mark a pending withdrawal ``confirmed``; returns the ``Withdrawal``."""
        wanted = parse_int_id(withdrawal_id, "withdrawal id")
        for account in self._accounts.values():
            for record in account.withdrawals:
                if record["id"] == wanted:
                    record["status"] = "confirmed"
                    record.setdefault("transactionHash", f"sandbox-{wanted:016x}")
                    return {k: v for k, v in record.items() if not k.startswith("_")}
        raise not_found(errors.WITHDRAWAL_NOT_FOUND)
