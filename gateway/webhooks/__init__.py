"""Webhooks: endpoints per tenant and signed deliveries of the batches' event log. Imports
watch, events and the layers below; imported by server, cli and main."""
