"""The relay: reads the exchange's streams once per market and subaccount, keeps local books,
and publishes rendered fragments to channel-layer groups, coalesced for browsers."""
