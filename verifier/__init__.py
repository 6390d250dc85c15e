"""indigo-verify: checks the public log of the kindergarten queue from the outside.

It reads only the public endpoints (no database), so anyone can run it against a deployment:
checkpoint signatures and consistency over time, a parent's receipt, and a replay of the public
protocols that shows every referral went to an application the published rules allowed.
This package imports nothing from the service; the service uses its hashing so that the two
can never disagree on the format.
"""
