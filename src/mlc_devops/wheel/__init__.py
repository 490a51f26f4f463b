"""Wheels: reading them, validating them, repairing them, and the clean environments they are installed into."""
