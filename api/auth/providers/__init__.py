"""Verifiers: they decide whether an assertion proves an email address."""
