"""Providers: each decides whether an assertion proves an email address."""
