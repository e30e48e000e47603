"""Team balances: valuation in USDC, the balances selectors, snapshots and sparklines.

Public API::

    team = await balances_for_team(user=request.user)        # TeamBalances
    view = await balances_view_for(subaccount)                # SubaccountBalances (relay)
    report = await balance_snapshots_take()                   # every 5 min, manage.py command
    team.below_threshold                                      # ThresholdBreach entries (alerts)

Import the submodules directly (`trading.balances.selectors` ...); this package's `__init__`
stays free of Django model imports so it can be imported before apps are ready.
"""
