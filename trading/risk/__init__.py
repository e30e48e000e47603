"""The risk gate (issue 15): limits per subaccount and member, checked before every order.

`gate` is the pure check; `services` reads the exposure, reserves headroom atomically and
records breaches; `selectors` is the admin's risk page read model.
"""
