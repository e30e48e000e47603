"""Withdrawals, in one place: the address book, policy and daily limits, and the requests.

- `models`: the records (the settings' tables keep their `accounts_` names);
- `settings_services`: address book and policy changes (admins, fresh two-factor code);
- `services`: request, approve, reject, send; `sending`: the exchange called at most once;
  `errors`: their refusal;
- `selectors`: usable addresses, the policy in force, today's usage, requests, history;
- `forms`, `views` (requests), `settings_views` (address book and policy), `urls`, `admin`;
- templates in `templates/trading/withdrawals/`.
"""
