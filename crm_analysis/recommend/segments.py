"""The strongest product associations within each customer segment."""

from __future__ import annotations

import pandas as pd

from crm_analysis.recommend.models import RecommendInputError, _lines, association_rules

__all__ = ["rules_by_segment"]


def rules_by_segment(
    transactions: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    segment_col: str = "segment",
    top: int = 3,
    basket: str = "order_id",
    min_support: float = 0.02,
    min_confidence: float = 0.1,
    min_baskets: int = 50,
) -> pd.DataFrame:
    """The ``top`` rules by lift among the baskets of each segment's customers.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Purchase lines: ``customer_id``, ``product``, the basket column.
    segments : pandas.DataFrame
        ``customer_id`` and ``segment_col``.
    segment_col : str, default "segment"
    top : int, default 3
        Rules per segment.
    basket, min_support, min_confidence
        See :func:`~crm_analysis.recommend.models.association_rules` (support
        within the segment's baskets).
    min_baskets : int, default 50
        Segments with fewer baskets are left out (listed in ``attrs["skipped"]``,
        like the customers without a segment).

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``baskets_in_segment`` and the rule columns; one block of
        up to ``top`` rows per segment.
    """
    for col in ("customer_id", segment_col):
        if col not in segments.columns:
            raise RecommendInputError(f"segments need column {col!r}; they have {list(segments.columns)}")
    _lines(transactions, ["customer_id", basket, "product"])  # missing columns or values, return lines
    seg = segments.set_index(segments["customer_id"].astype(str))[segment_col].astype(str)
    tx = transactions.assign(_seg=transactions["customer_id"].astype(str).map(seg))
    parts, skipped = [], []
    unsegmented = tx["_seg"].isna()
    if unsegmented.any():
        skipped.append(f"(no segment: {tx.loc[unsegmented, 'customer_id'].nunique():,} customer(s), "
                       f"{int(unsegmented.sum()):,} line(s))")
    for name, part in tx.groupby("_seg", sort=True):
        n = part[basket].nunique()
        if n < min_baskets:
            skipped.append(f"{name} ({n} baskets)")
            continue
        r = association_rules(part, basket=basket, min_support=min_support, min_confidence=min_confidence)
        if r.empty:
            skipped.append(f"{name} (no rule above the thresholds)")
            continue
        r = r.head(int(top))
        r.insert(0, "baskets_in_segment", n)
        r.insert(0, "segment", name)
        parts.append(r)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["segment", "baskets_in_segment", "antecedent", "consequent", "support", "confidence", "lift"])
    out.attrs["skipped"] = skipped
    return out
