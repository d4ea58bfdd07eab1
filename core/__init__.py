"""Shared value types, settings, errors and text helpers used by every layer."""
