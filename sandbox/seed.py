"""Seed files: the sandbox exchange's starting world, as JSON or YAML.

A seed names the assets (with their blockchains and withdrawal fees), the markets (with
their filters, fees and a starting price), the subaccounts (numbered ids, labels, starting
balances, 2FA-exempt withdrawal addresses per blockchain) and each subaccount's ED25519 key:
either ``apiSecret`` (base64 32-byte seed) or derived from the file's ``keySeed`` string as
``sha256(f"{keySeed}:{subaccount_id}")``. See ``sandbox/default_seed.json`` for a full
example.

Decimal values are quoted strings read by the sandbox's strict parser
(:mod:`sandbox.numbers`): ``"0.01"``, never ``0.01`` or ``"1e-2"``.

A malformed file raises :class:`SeedError` whose message names the line, the field and the
reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from nacl.signing import SigningKey

from sandbox.numbers import NumberError, parse_decimal

DEFAULT_SEED_PATH = Path(__file__).with_name("default_seed.json")
MARKET_TYPES = ("SPOT", "PERP")
BLOCKCHAINS = (  # the spec's Blockchain enum
    "0G", "Aptos", "Arbitrum", "Avalanche", "Base", "Berachain", "Bitcoin", "BitcoinCash", "Bsc",
    "Cardano", "Dogecoin", "Eclipse", "EqualsMoney", "Ethereum", "Fogo", "HyperEVM", "Hyperliquid",
    "Linea", "Litecoin", "Monad", "Near", "Optimism", "Plasma", "Polygon", "Sei", "Sui", "Solana",
    "Stable", "Story", "Tron", "XRP", "Zcash",
)  # fmt: skip


class SeedError(Exception):
    """A seed file that cannot be used; the message names the line and the reason."""


@dataclass(frozen=True)
class TokenSeed:
    """One blockchain an asset lives on."""

    blockchain: str
    withdrawal_fee: Decimal
    minimum_withdrawal: Decimal
    minimum_deposit: Decimal
    contract_address: str | None = None


@dataclass(frozen=True)
class AssetSeed:
    """An asset with its blockchains."""

    symbol: str
    display_name: str
    coingecko_id: str | None
    tokens: tuple[TokenSeed, ...]


@dataclass(frozen=True)
class MarketSeed:
    """A market's definition, in the spec's Market terms plus a starting price."""

    symbol: str
    base_symbol: str
    quote_symbol: str
    market_type: str
    tick_size: Decimal
    step_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal | None
    min_price: Decimal
    max_price: Decimal | None
    max_multiplier: Decimal
    min_multiplier: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    initial_price: Decimal
    imf: Decimal = Decimal("0.02")
    mmf: Decimal = Decimal("0.0125")
    funding_interval_ms: int = 28_800_000
    open_interest_limit: Decimal | None = None
    funding_rate: Decimal = Decimal(0)
    """The estimated funding rate charged at the end of each interval (perps)."""


@dataclass(frozen=True)
class SubaccountSeed:
    """A subaccount: id, label, key pair, balances and 2FA-exempt withdrawal addresses."""

    id: int
    label: str
    signing_seed: bytes
    balances: dict[str, Decimal]
    withdrawal_addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def api_secret(self) -> str:
        """The base64 32-byte ED25519 seed."""
        return base64.b64encode(self.signing_seed).decode()

    @property
    def api_key(self) -> str:
        """The base64 ED25519 public (verifying) key."""
        verify_key = SigningKey(self.signing_seed).verify_key
        return base64.b64encode(bytes(verify_key)).decode()


@dataclass(frozen=True)
class Seed:
    """A whole seed file, validated."""

    assets: tuple[AssetSeed, ...]
    markets: tuple[MarketSeed, ...]
    subaccounts: tuple[SubaccountSeed, ...]
    maker: SubaccountSeed
    source: str = "<memory>"

    def keys(self) -> list[dict[str, Any]]:
        """The ``--dump-keys`` list: [{"subaccount", "label", "api_key", "api_secret"}]."""
        return [
            {
                "subaccount": sub.id,
                "label": sub.label,
                "api_key": sub.api_key,
                "api_secret": sub.api_secret,
            }
            for sub in self.subaccounts
        ]


def derive_signing_seed(key_seed: str, subaccount_id: int) -> bytes:
    """The 32-byte ED25519 seed derived from a seed string: sha256(f"{seed}:{id}")."""
    return hashlib.sha256(f"{key_seed}:{subaccount_id}".encode()).digest()


def load_seed(path: str | Path | None = None) -> Seed:
    """Read and validate a seed file (JSON or YAML); the default seed when ``path`` is None."""
    seed_path = Path(path) if path is not None else DEFAULT_SEED_PATH
    try:
        text = seed_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{seed_path}: cannot read the seed file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SeedError(f"{seed_path}: line 1: the seed file is not UTF-8 text") from None
    return parse_seed(text, source=str(seed_path))


def parse_seed(text: str, source: str = "<memory>") -> Seed:
    """Validate seed text; errors name ``source``, the line and the reason."""
    if source.endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedError(f"{source}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    data, lines = _load_with_lines(text, source)
    reader = _Reader(lines, source)
    return reader.seed(data)


def _load_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SeedError(f"{source}: line 1: the seed file is empty")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SeedError(f"{source}: line {line}: invalid syntax: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SeedError(f"{source}: line 1: invalid syntax: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    _record_lines(node, (), lines)
    return data, lines


def _record_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _record_lines(value_node, (*path, key_node.value), lines)
            lines[(*path, key_node.value, "<key>")] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


class _Reader:
    def __init__(self, lines: dict[tuple, int], source: str) -> None:
        self.lines = lines
        self.source = source

    def fail(self, path: tuple, reason: str) -> SeedError:
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        where = ".".join(str(part) for part in path if part != "<key>") or "top level"
        return SeedError(f"{self.source}: line {line}: {where}: {reason}")

    def mapping(self, value: Any, path: tuple) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, "expected a mapping")
        return value

    def sequence(self, value: Any, path: tuple) -> list:
        if not isinstance(value, list):
            raise self.fail(path, "expected a list")
        return value

    def text(self, data: dict, key: str, path: tuple, default: Any = ...) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(path, f"missing required field {key!r}")
            return default
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail((*path, key), "expected a non-empty string")
        return value

    def decimal(
        self, data: dict, key: str, path: tuple, default: Any = ..., *, negative: bool = False
    ) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(path, f"missing required field {key!r}")
            return default
        value = data[key]
        try:
            return parse_decimal(value, negative)
        except NumberError as exc:
            if isinstance(value, int | float) and not isinstance(value, bool):
                reason = f"write the decimal as a quoted string ('{value}'), not a number"
            else:
                reason = exc.reason
            raise self.fail((*path, key), reason) from None

    def integer(self, data: dict, key: str, path: tuple, default: Any = ...) -> Any:
        if key not in data:
            if default is ...:
                raise self.fail(path, f"missing required field {key!r}")
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail((*path, key), "expected a whole number >= 0")
        return value

    def seed(self, data: Any) -> Seed:
        top = self.mapping(data, ())
        known = {"assets", "markets", "subaccounts", "keySeed", "maker"}
        for key in top:
            if key not in known:
                raise self.fail((key, "<key>"), f"unknown field {key!r}")
        key_seed = self.text(top, "keySeed", (), default="backpack-sandbox")
        assets = tuple(
            self.asset(item, ("assets", i))
            for i, item in enumerate(self.sequence(top.get("assets"), ("assets",)))
        )
        asset_symbols = {asset.symbol for asset in assets}
        if len(asset_symbols) != len(assets):
            raise self.fail(("assets",), "asset symbols must be unique")
        markets = tuple(
            self.market(item, ("markets", i), asset_symbols)
            for i, item in enumerate(self.sequence(top.get("markets"), ("markets",)))
        )
        if len({market.symbol for market in markets}) != len(markets):
            raise self.fail(("markets",), "market symbols must be unique")
        blockchains = {token.blockchain for asset in assets for token in asset.tokens}
        raw_subs = self.sequence(top.get("subaccounts"), ("subaccounts",))
        if not raw_subs:
            raise self.fail(("subaccounts",), "at least one subaccount is needed")
        subaccounts = tuple(
            self.subaccount(item, ("subaccounts", i), key_seed, asset_symbols, blockchains)
            for i, item in enumerate(raw_subs)
        )
        if len({sub.id for sub in subaccounts}) != len(subaccounts):
            raise self.fail(("subaccounts",), "subaccount ids must be unique")
        raw_maker = top.get("maker", {"id": 65000, "label": "Market maker"})
        maker = self.subaccount(raw_maker, ("maker",), key_seed, asset_symbols, blockchains)
        taken = {sub.id for sub in subaccounts}
        if maker.id in taken or maker.id + 1 in taken or maker.id >= 65535:
            raise self.fail(
                ("maker", "id"),
                "the maker uses ids N and N+1: both must differ from the subaccounts' ids",
            )
        return Seed(assets, markets, subaccounts, maker, self.source)

    def asset(self, raw: Any, path: tuple) -> AssetSeed:
        data = self.mapping(raw, path)
        symbol = self.text(data, "symbol", path)
        tokens = []
        for i, item in enumerate(self.sequence(data.get("tokens"), (*path, "tokens"))):
            token_path = (*path, "tokens", i)
            token = self.mapping(item, token_path)
            chain = self.text(token, "blockchain", token_path)
            if chain not in BLOCKCHAINS:
                raise self.fail((*token_path, "blockchain"), f"unknown blockchain {chain!r}")
            tokens.append(
                TokenSeed(
                    blockchain=self.text(token, "blockchain", token_path),
                    withdrawal_fee=self.decimal(token, "withdrawalFee", token_path),
                    minimum_withdrawal=self.decimal(
                        token, "minimumWithdrawal", token_path, Decimal("0")
                    ),
                    minimum_deposit=self.decimal(token, "minimumDeposit", token_path, Decimal("0")),
                    contract_address=self.text(token, "contractAddress", token_path, None),
                )
            )
        return AssetSeed(
            symbol=symbol,
            display_name=self.text(data, "displayName", path, symbol),
            coingecko_id=self.text(data, "coingeckoId", path, None),
            tokens=tuple(tokens),
        )

    def market(self, raw: Any, path: tuple, asset_symbols: set[str]) -> MarketSeed:
        data = self.mapping(raw, path)
        symbol = self.text(data, "symbol", path)
        base = self.text(data, "baseSymbol", path)
        quote = self.text(data, "quoteSymbol", path)
        for key, asset in (("baseSymbol", base), ("quoteSymbol", quote)):
            if asset not in asset_symbols:
                raise self.fail((*path, key), f"unknown asset {asset!r}")
        market_type = self.text(data, "marketType", path)
        if market_type not in MARKET_TYPES:
            raise self.fail((*path, "marketType"), f"must be one of {', '.join(MARKET_TYPES)}")
        tick = self.decimal(data, "tickSize", path)
        step = self.decimal(data, "stepSize", path)
        for key, value in (("tickSize", tick), ("stepSize", step)):
            if value <= 0:
                raise self.fail((*path, key), "must be greater than 0")
        initial_price = self.decimal(data, "initialPrice", path)
        if initial_price <= 0 or initial_price % tick != 0:
            raise self.fail((*path, "initialPrice"), "must be > 0 and a multiple of tickSize")
        return MarketSeed(
            symbol=symbol,
            base_symbol=base,
            quote_symbol=quote,
            market_type=market_type,
            tick_size=tick,
            step_size=step,
            min_quantity=self.decimal(data, "minQuantity", path, step),
            max_quantity=self.decimal(data, "maxQuantity", path, None),
            min_price=self.decimal(data, "minPrice", path, tick),
            max_price=self.decimal(data, "maxPrice", path, None),
            max_multiplier=self.decimal(data, "maxMultiplier", path, Decimal("1.25")),
            min_multiplier=self.decimal(data, "minMultiplier", path, Decimal("0.75")),
            maker_fee=self.decimal(data, "makerFee", path, Decimal("0.0002")),
            taker_fee=self.decimal(data, "takerFee", path, Decimal("0.0005")),
            initial_price=initial_price,
            imf=self.decimal(data, "imf", path, Decimal("0.02")),
            mmf=self.decimal(data, "mmf", path, Decimal("0.0125")),
            funding_interval_ms=self.integer(data, "fundingInterval", path, 28_800_000),
            open_interest_limit=self.decimal(data, "openInterestLimit", path, None),
            funding_rate=self.decimal(data, "fundingRate", path, Decimal(0), negative=True),
        )

    def subaccount(
        self,
        raw: Any,
        path: tuple,
        key_seed: str,
        asset_symbols: set[str],
        blockchains: set[str],
    ) -> SubaccountSeed:
        data = self.mapping(raw, path)
        sub_id = self.integer(data, "id", path)
        if sub_id > 65535:
            raise self.fail((*path, "id"), "subaccount ids are uint16 (0..65535)")
        label = self.text(data, "label", path, f"Subaccount {sub_id}")
        secret = self.text(data, "apiSecret", path, None)
        if secret is None:
            signing_seed = derive_signing_seed(key_seed, sub_id)
        else:
            try:
                signing_seed = base64.b64decode(secret, validate=True)
            except (binascii.Error, ValueError):
                signing_seed = b""
            if len(signing_seed) != 32:
                raise self.fail((*path, "apiSecret"), "must be a base64 32-byte ED25519 seed")
        balances: dict[str, Decimal] = {}
        raw_balances = self.mapping(data.get("balances", {}), (*path, "balances"))
        for asset, _amount in raw_balances.items():
            if asset not in asset_symbols:
                raise self.fail((*path, "balances", asset, "<key>"), f"unknown asset {asset!r}")
            balances[asset] = self.decimal(raw_balances, asset, (*path, "balances"))
        addresses: dict[str, tuple[str, ...]] = {}
        addr_path = (*path, "withdrawalAddresses")
        raw_addresses = self.mapping(data.get("withdrawalAddresses", {}), addr_path)
        for chain, items in raw_addresses.items():
            if chain not in blockchains:
                raise self.fail((*addr_path, chain, "<key>"), f"unknown blockchain {chain!r}")
            listed = self.sequence(items, (*addr_path, chain))
            for i, item in enumerate(listed):
                if not isinstance(item, str) or not item:
                    raise self.fail((*addr_path, chain, i), "expected an address string")
            addresses[chain] = tuple(listed)
        return SubaccountSeed(sub_id, label, signing_seed, balances, addresses)
