"""Trading models, one module per concern; each is imported here so Django finds it.

Add one import line per module (tickets, balances, withdrawals, monitoring).
"""
