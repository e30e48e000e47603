"""TWAP through the exchange's own ``Scheduled`` strategy: start and cancel
(`services`), with the risk gate and the audit trail like every order path."""
