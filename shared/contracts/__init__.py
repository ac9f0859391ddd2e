"""The event contracts: every CloudEvent `data` this system accepts, publishes or delivers."""
