"""Scripts trade through the desk (issue 17).

A member issues ED25519 keys to scripts (`models.ScriptKey`, `keys.py`, the page in
`pages.py`); a script signs its requests with one exactly as the exchange requires and sends
them to the desk under `/bpx/`: REST in `endpoint.py`, the WebSocket in `stream.py` (routed
before the browsers' origin check by `routing.py`). One path checks a signed request
(`authenticate.py`: headers and window and signature in `verify.py`, replay in `replay.py`,
the key, its scope and the member's role in `admit.py`); orders pass the risk gate and are
recorded and audited as the member's (`orders.py`: their fields read in `order_fields.py`,
their desk tickets in `tickets.py`, an answered order's outcome written with the next step in
`outcomes.py`); everything is re-signed with the
subaccount's key and forwarded within the subaccount's shared rate budget (`forward.py`), the
served routes declared in `routes.py`; the desk's own refusals use the exchange's error shape
(`errors.py`). `tests/bench/bench_gateway.py` measures what the desk adds.
"""
