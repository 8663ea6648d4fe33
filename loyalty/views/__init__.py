"""Loyalty pages: the Owner's (manage) and the staff's, per member (members)."""
