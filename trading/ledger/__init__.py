"""The ledger: each subaccount's fills, funding, settlements and transfers, synced from the
exchange's histories (`services`), and the PnL and reconciliation computed from them
(`pnl`, pure; `selectors`, from the database)."""
