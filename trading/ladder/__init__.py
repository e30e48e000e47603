"""Ladder (scaled) orders: a pure preview (`preview.ladder_preview`) and the service that
sends it as one batch after the risk gate admitted it whole (`services.ladder_place`)."""
