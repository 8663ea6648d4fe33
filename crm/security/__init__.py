"""Logins, sessions and response hardening: lockouts (django-axes), session
time limits the Owner sets, and the checks that keep text out of e-mail headers."""
