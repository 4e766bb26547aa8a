"""Webhooks: endpoints per tenant, signed deliveries of batch events (Standard Webhooks)."""
