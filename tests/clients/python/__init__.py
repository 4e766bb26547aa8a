"""Tests of sofer-gateway-client (clients/python/)."""
