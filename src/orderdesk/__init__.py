"""orderdesk: keeps every card and PayPal order paid for until it ships."""
