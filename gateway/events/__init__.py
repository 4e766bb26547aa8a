"""Batch events: what pollers observe, kept in a per-(tenant, batch) log (gateway.events.model)."""
