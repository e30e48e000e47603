"""Views of the trading pages: markets and the order ticket (`market`), open orders and
history (`orders`), positions (`positions`). Views parse input, call a selector or a service
and render; anything that talks to the exchange is an async view."""
