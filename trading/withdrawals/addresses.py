"""Is this text an address on that blockchain? Checked before an address enters the book.

The blockchains are the exchange's own (`Blockchain` in ``backpack-openapi.yml``). An address
is checked by its chain's format where the desk knows it:

    Solana, Eclipse, Fogo      base58, 32 to 44 characters
    EVM chains (Ethereum, ...) 0x and 40 hexadecimal digits
    Bitcoin                    bech32 (bc1...) or base58 starting with 1 or 3
    Tron                       base58, T and 33 more characters
    XRP                        base58, r and 24 to 34 more characters (a classic address),
                               or X and 46 more (an X-address, which carries its tag)

Any address, on any chain, is one word of printable ASCII: no whitespace, no control
character, no angle bracket or quote (nothing that could be markup or two words), and no letter
of another alphabet (a Cyrillic "Н" looks like the Latin "H" but is another address). A chain
without a format of its own is held to that alone.
The format says nothing of whether the address exists; the exchange, where the address must
be configured as 2FA-exempt, remains the judge of that.
"""

from __future__ import annotations

import re
import unicodedata

# The exchange's `Blockchain` enum (backpack-openapi.yml, components.schemas.Blockchain).
BLOCKCHAINS = (
    "0G",
    "Aptos",
    "Arbitrum",
    "Avalanche",
    "Base",
    "Berachain",
    "Bitcoin",
    "BitcoinCash",
    "Bsc",
    "Cardano",
    "Dogecoin",
    "Eclipse",
    "EqualsMoney",
    "Ethereum",
    "Fogo",
    "HyperEVM",
    "Hyperliquid",
    "Linea",
    "Litecoin",
    "Monad",
    "Near",
    "Optimism",
    "Plasma",
    "Polygon",
    "Sei",
    "Sui",
    "Solana",
    "Stable",
    "Story",
    "Tron",
    "XRP",
    "Zcash",
)

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

_SOLANA = re.compile(f"^[{_BASE58}]{{32,44}}$")
_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BITCOIN_BASE58 = re.compile(f"^[13][{_BASE58}]{{25,34}}$")
_BITCOIN_BECH32 = re.compile(f"^bc1[{_BECH32}]{{11,71}}$")
_TRON = re.compile(f"^T[{_BASE58}]{{33}}$")
# The ripple alphabet orders the same 58 characters differently; only the set matters here.
_XRP = re.compile(f"^(?:r[{_BASE58}]{{24,34}}|X[{_BASE58}]{{46}})$")

_SOLANA_LIKE = frozenset({"Solana", "Eclipse", "Fogo"})
_EVM_CHAINS = frozenset(
    {
        "0G",
        "Arbitrum",
        "Avalanche",
        "Base",
        "Berachain",
        "Bsc",
        "Ethereum",
        "HyperEVM",
        "Hyperliquid",
        "Linea",
        "Monad",
        "Optimism",
        "Plasma",
        "Polygon",
        "Stable",
        "Story",
    }
)
_NEVER_IN_AN_ADDRESS = frozenset("<>\"'`")


def blockchain_problem(blockchain: str) -> str | None:
    """Why ``blockchain`` is not one the exchange names, or None when it is."""
    if blockchain in BLOCKCHAINS:
        return None
    return "Choose one of the exchange's blockchains (Solana, Ethereum, Bitcoin, ...)."


def address_problem(blockchain: str, address: str) -> str | None:
    """Why ``address`` is not an address on ``blockchain`` (a known one), or None."""
    if not address:
        return "Give the address."
    if any(_unsafe(ch) for ch in address):
        return (
            "An address is one word of letters and digits: no spaces, line breaks, "
            "control characters, angle brackets or quotes."
        )
    foreign = next((ch for ch in address if not ch.isascii()), None)
    if foreign is not None:
        return (
            f"Not an address on {blockchain}: '{foreign}' ({unicodedata.name(foreign, 'unnamed')}) "
            "is not a plain ASCII character. Addresses use only ASCII letters, digits and "
            "punctuation, with no spaces; copy the address again from where it was given."
        )
    if blockchain in _SOLANA_LIKE and not _SOLANA.match(address):
        return (
            f"Not an address on {blockchain}: 32 to 44 base58 characters (letters and digits "
            "without 0, O, I and l)."
        )
    if blockchain in _EVM_CHAINS and not _EVM.match(address):
        return f"Not an address on {blockchain}: 0x followed by 40 hexadecimal digits."
    if blockchain == "Bitcoin" and not _bitcoin(address):
        return (
            "Not an address on Bitcoin: bc1 followed by bech32 characters, or 26 to 35 base58 "
            "characters starting with 1 or 3."
        )
    if blockchain == "Tron" and not _TRON.match(address):
        return "Not an address on Tron: T followed by 33 base58 characters."
    if blockchain == "XRP" and not _XRP.match(address):
        return (
            "Not an address on XRP: r followed by 24 to 34 base58 characters (letters and digits "
            "without 0, O, I and l), or an X-address (X and 46 more)."
        )
    return None


def _unsafe(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "CZ" or ch in _NEVER_IN_AN_ADDRESS


def _bitcoin(address: str) -> bool:
    # bech32 is all lower or all upper case, never mixed (BIP 173)
    if address.lower().startswith("bc1") and address in (address.lower(), address.upper()):
        return bool(_BITCOIN_BECH32.match(address.lower()))
    return bool(_BITCOIN_BASE58.match(address))
