"""Take-profit and stop-loss on an open position: set, move and remove them (`services`),
and read them (`selectors`)."""
