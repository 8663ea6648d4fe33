"""RFM: recency, frequency and monetary scores, and the named segments.

Among the customers who had bought by the end of a period, each gets 1-5 on
recency (latest purchase; 5 = most recent), frequency (occasions) and monetary
(net spend), by quintile of the customer's rank among them: the percent rank p
(0 for the lowest, 1 for the highest; tied customers share the lower rank) gives 1 for
p < 0.2, 2 below 0.4, ..., 5 from 0.8. Ties are never split, so a score can be
missing when many customers share a value (most have bought once).

The segment comes from R and FM, the rounded-up mean of F and M:

    R \\ FM    1               2-3                  4-5
    5         New             Potential loyalist   Champions
    4         Promising       Potential loyalist   Loyal
    3         About to sleep (FM 1-2), Need attention (FM 3), Loyal (FM 4-5)
    2         Hibernating (FM 1-2), At risk (FM 3-4), Can't lose them (FM 5)
    1         Lost (FM 1), Hibernating (FM 2), At risk (FM 3-4), Can't lose (5)
"""

from __future__ import annotations

from .facts import Plan
from .sql import Relation

SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential_loyalists", "Potential loyalists"),
    ("new", "New"),
    ("promising", "Promising"),
    ("need_attention", "Need attention"),
    ("about_to_sleep", "About to sleep"),
    ("at_risk", "At risk"),
    ("cant_lose", "Can't lose them"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]
SEGMENT_NAMES = dict(SEGMENTS)

SEGMENT_CASE = """CASE
    WHEN {r} = 5 AND {fm} = 1 THEN 'new'
    WHEN {r} = 5 AND {fm} <= 3 THEN 'potential_loyalists'
    WHEN {r} = 5 THEN 'champions'
    WHEN {r} = 4 AND {fm} = 1 THEN 'promising'
    WHEN {r} = 4 AND {fm} <= 3 THEN 'potential_loyalists'
    WHEN {r} = 4 THEN 'loyal'
    WHEN {r} = 3 AND {fm} <= 2 THEN 'about_to_sleep'
    WHEN {r} = 3 AND {fm} = 3 THEN 'need_attention'
    WHEN {r} = 3 THEN 'loyal'
    WHEN {r} = 1 AND {fm} = 1 THEN 'lost'
    WHEN {fm} <= 2 THEN 'hibernating'
    WHEN {fm} <= 4 THEN 'at_risk'
    ELSE 'cant_lose'
END"""


def _score(rank: str) -> str:
    """1-5 by quintile of a percent rank."""
    return (
        f"CASE WHEN {rank} < 0.2 THEN 1 WHEN {rank} < 0.4 THEN 2 "
        f"WHEN {rank} < 0.6 THEN 3 WHEN {rank} < 0.8 THEN 4 ELSE 5 END"
    )


def _scored_at(plan: Plan, facts: Relation, name: str, period) -> Relation:
    """r, f, m and segment of the customers who had bought by the period's end.

    Only those customers are ranked (a WHERE, not a PARTITION BY: one sort key
    less per window), money is ranked as whole cents (integers sort faster).
    """
    last = f"t.last_{plan.boundary(period.last)}"
    ranks = facts.select(
        "t.customer_id, "
        f"PERCENT_RANK() OVER (ORDER BY {last}) AS r_rank, "
        f"PERCENT_RANK() OVER (ORDER BY t.occasions_to_{name}) AS f_rank, "
        f"PERCENT_RANK() OVER (ORDER BY CAST(t.value_to_{name} * 100 AS BIGINT)) "
        "AS m_rank",
        tail=f"WHERE t.occasions_to_{name} >= 1",
    )
    scored = ranks.select(
        "k.customer_id, " + ", ".join(f"{_score(f'k.{x}_rank')} AS {x}" for x in "rfm"),
        alias="k",
    )
    segment = SEGMENT_CASE.format(r="s.r", fm="((s.f + s.m + 1) / 2)")
    return scored.select(f"s.*, {segment} AS segment", alias="s")


def scores(plan: Plan, facts: Relation) -> Relation:
    """Per customer who had bought: r, f, m and segment now, and at the end of
    the previous period (NULL if they had not bought by then)."""
    now = _scored_at(plan, facts, "cur", plan.period)
    before = _scored_at(plan, facts, "prev", plan.previous)
    return Relation(
        "SELECT n.customer_id, n.r AS r_cur, n.f AS f_cur, n.m AS m_cur, "
        "n.segment, b.r AS r_prev, b.f AS f_prev, b.m AS m_prev, "
        f"b.segment AS previous_segment FROM ({now.sql}) n "
        f"LEFT JOIN ({before.sql}) b ON b.customer_id = n.customer_id",
        now.params + before.params,
    )


def rfm(plan: Plan, facts: Relation) -> dict:
    """Segment sizes now and before, and how customers moved between them."""
    rows = scores(plan, facts).fetch(
        "t.segment, t.previous_segment, COUNT(*) AS customers, "
        "MIN(t.r_cur) AS r_min, MAX(t.r_cur) AS r_max, "
        "MIN(t.f_cur) AS f_min, MAX(t.f_cur) AS f_max, "
        "MIN(t.m_cur) AS m_min, MAX(t.m_cur) AS m_max",
        tail="GROUP BY t.segment, t.previous_segment",
    )
    now = dict.fromkeys(SEGMENT_NAMES, 0)
    before = dict.fromkeys(SEGMENT_NAMES, 0)
    moves = []
    score_range = {"min": 5, "max": 1}
    for row in rows:
        count = int(row["customers"])
        if row["segment"]:
            now[row["segment"]] += count
            for letter in "rfm":
                score_range["min"] = min(score_range["min"], row[f"{letter}_min"])
                score_range["max"] = max(score_range["max"], row[f"{letter}_max"])
        if row["previous_segment"]:
            before[row["previous_segment"]] += count
        moves.append(
            {
                "from": row["previous_segment"],
                "to": row["segment"],
                "customers": count,
            }
        )
    moves.sort(key=lambda m: (-m["customers"], m["from"] or "", m["to"] or ""))
    return {
        "as_of": plan.period.last.isoformat(),
        "previous_as_of": plan.previous.last.isoformat(),
        "segments": [
            {
                "key": key,
                "name": name,
                "customers": now[key],
                "previous": before[key],
            }
            for key, name in SEGMENTS
        ],
        "customers": sum(now.values()),
        "moves": moves,
        "score_range": score_range if sum(now.values()) else None,
    }
