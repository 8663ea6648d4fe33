"""Loyalty program: Program, Tier, Reward, Membership, PointsEntry, Redemption."""
