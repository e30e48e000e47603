"""Scripts trade through the desk (issue 17).

A member issues ED25519 keys to scripts (`models.ScriptKey`, `keys.py`); a script signs its
requests with one exactly as the exchange requires and sends them to the desk under `/bpx/`
(`views.py`). The desk checks the signature, window, replay (`verify.py`, `replay.py`), the
key's scope and the member's role, passes orders through the risk gate, re-signs with the
subaccount's real key and forwards within the subaccount's shared rate budget
(`forward.py`); its own refusals use the exchange's error shape (`errors.py`).
"""
