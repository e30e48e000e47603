"""Address formats: look-alike letters from other alphabets are refused on every chain, XRP has
its format, and the sandbox's own 2FA-exempt addresses pass the desk's checks."""

from __future__ import annotations

import pytest

from sandbox.seed import load_seed
from trading.withdrawals.addresses import address_problem

CYRILLIC_EN = "\u041d"  # looks like the Latin H
NOT_ASCII = (
    "Not an address on {chain}: '{char}' ({name}) is not a plain ASCII character. Addresses "
    "use only ASCII letters, digits and punctuation, with no spaces; copy the address again "
    "from where it was given."
)


@pytest.mark.parametrize(
    ("chain", "address", "char"),
    [
        ("XRP", f"r{CYRILLIC_EN}b9CJAWyB4rj91VRWn96DkukG4bwdtyTh", CYRILLIC_EN),
        ("Cardano", "addr1qx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydz\u00e9r", "\u00e9"),
        ("Sui", "0x5f\u0430b", "\u0430"),
        ("Solana", f"9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFi{CYRILLIC_EN}", CYRILLIC_EN),
    ],
)
def test_a_letter_from_another_alphabet_is_refused_and_named(chain, address, char):
    names = {
        CYRILLIC_EN: "CYRILLIC CAPITAL LETTER EN",
        "\u00e9": "LATIN SMALL LETTER E WITH ACUTE",
        "\u0430": "CYRILLIC SMALL LETTER A",
    }

    problem = address_problem(chain, address)

    assert problem == NOT_ASCII.format(chain=chain, char=char, name=names[char])


@pytest.mark.parametrize(
    "address",
    [
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",  # classic address
        "rrrrrrrrrrrrrrrrrrrrrhoLvTp",  # ACCOUNT_ZERO, 27 characters
        "XVLhHMPHU98es4dbozjVtdWzVrDjtV5fdx1mHp98tDMoQXb",  # X-address (with its tag)
    ],
)
def test_an_xrp_address_in_its_format_passes(address):
    assert address_problem("XRP", address) is None


@pytest.mark.parametrize(
    "address",
    [
        "Hb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",  # no leading r
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyT0",  # 0 is not base58
        "rHb9CJAW",  # too short
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyThHb9CJAW",  # too long
    ],
)
def test_an_xrp_address_out_of_its_format_is_refused(address):
    assert address_problem("XRP", address) == (
        "Not an address on XRP: r followed by 24 to 34 base58 characters (letters and digits "
        "without 0, O, I and l), or an X-address (X and 46 more)."
    )


def test_the_sandboxs_exempt_addresses_pass_the_desks_checks():
    seed = load_seed()

    problems = {
        (sub.label, chain, address): address_problem(chain, address)
        for sub in seed.subaccounts
        for chain, addresses in sub.withdrawal_addresses.items()
        for address in addresses
    }

    assert {where: problem for where, problem in problems.items() if problem} == {}
    assert len(problems) == 3 * len(seed.subaccounts)  # Solana, Ethereum and Bitcoin each
