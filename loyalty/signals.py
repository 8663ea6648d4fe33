"""What loyalty tells other apps (communications' "welcome" and "tier reached").

Both are sent inside the transaction that made the change, so a receiver's writes
commit or roll back with it; a receiver that enqueues work does it on commit
(``delay_on_commit``).
"""

from django.dispatch import Signal

# member_enrolled(sender=Membership, membership): a customer joined the program
# (by staff, on a first purchase, or by an opening-balance import).
member_enrolled = Signal()

# tier_changed(sender=Membership, membership, old_tier, new_tier): a member moved
# up or down; either tier may be None (below every tier). membership.tier is
# new_tier already.
tier_changed = Signal()
