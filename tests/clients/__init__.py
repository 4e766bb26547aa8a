"""Tests of the client packages in clients/."""
