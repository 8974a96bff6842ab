"""The help desk: staff accounts, the handoff queue's rules, and (to come) the staff console.

Its SQL lives in `bot.db.desk`; this package holds what the desk decides.
"""
