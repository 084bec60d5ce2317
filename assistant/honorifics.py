"""Titles people put before a name ("Dr. Patel", "Mrs Smith", "Mr. Jones"): how a person is addressed, never which
person, so the planner keeps them with the recipient and resolution reads the name without them."""

HONORIFICS = frozenset({"dr", "doctor", "mr", "mister", "mrs", "ms", "miss", "mx", "prof", "professor", "rev"})
