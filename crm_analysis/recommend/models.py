"""Next-best products: top-k products a customer has not bought yet (IDIC: Customize).

Three recommenders with one interface (scikit-learn style: ``fit(transactions)``
returns ``self``; ``recommend(customers, *, k)`` returns a long table):

* :class:`PopularityRecommender` -- the products most customers bought (the baseline);
* :class:`ItemSimilarityRecommender` -- item-item collaborative filtering
  (Sarwar et al. 2001; Linden, Smith & York 2003, Amazon's item-to-item):
  cosine similarity of the products' customer vectors (binary: bought or not),
  ``sim(i, j) = |C_i & C_j| / sqrt(|C_i| |C_j|)``, each product keeping its
  ``n_neighbours`` most similar; a customer's score of product ``j`` is the sum of
  ``sim(i, j)`` over the products ``i`` the customer bought;
* :class:`AssociationRuleRecommender` -- association rules between products
  bought in one order (Agrawal, Imielinski & Swami 1993), mined with FP-growth
  (Han, Pei & Yin 2000; the maintained ``mlxtend`` implementation):
  ``support(A -> B) = P(A and B)``, ``confidence = P(B | A)``, ``lift =
  confidence / P(B)``; a customer's score of ``j`` is the highest confidence of a
  rule ``{i} -> {j}`` with ``i`` bought (ties: lift).

Return lines (negative quantity or amount, or the ``is_cancellation`` marker:
:func:`crm_analysis.data.return_mask`) are refused: a return is not a purchase
and would count as one in the matrix and the rules. Products the customer
already bought are never recommended. A customer
without history, or with fewer scored products than ``k``, gets the rest from
the popularity ranking (counted: ``filled_by_popularity``).
"""

from __future__ import annotations

from crm_analysis.exceptions import InputError, shown
from crm_analysis._validate import NotFittedAttributes, check_columns

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator

from crm_analysis.data import return_mask

__all__ = [
    "RecommendInputError",
    "PurchaseMatrix",
    "purchase_matrix",
    "PopularityRecommender",
    "ItemSimilarityRecommender",
    "AssociationRuleRecommender",
    "association_rules",
]


_CHUNK = 1000  # customers scored at once


class RecommendInputError(InputError):
    """Input of a recommender is unusable; the message names the column or parameter and the fix."""


@dataclass
class PurchaseMatrix:
    """Binary customer x product matrix.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_customers, n_products)
        1 where the customer bought the product.
    customers : pandas.Index
        Customer ids (rows).
    products : pandas.Index
        Product ids (columns).
    """

    matrix: sparse.csr_matrix
    customers: pd.Index
    products: pd.Index


def _lines(transactions: pd.DataFrame, need: Sequence[str]) -> pd.DataFrame:
    if not isinstance(transactions, pd.DataFrame):
        raise RecommendInputError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}")
    check_columns(need, transactions.columns, table="transactions", error=RecommendInputError,
                  fix="Recommendations need a product per line: map the source's product / SKU column "
                      "(columns: {product: ...})")
    probe = transactions if "amount" in transactions.columns else transactions.assign(amount=0.0)
    returned = return_mask(probe)
    if returned.any():
        raise RecommendInputError(
            f"{int(returned.sum()):,} return line(s) (negative quantity or amount, or is_cancellation) among the "
            "purchase lines: a return is not a purchase; drop them first, e.g. "
            "transactions[~crm_analysis.data.return_mask(transactions)]"
        )
    t = transactions[list(need)]
    bad = t.isna().any(axis=1)
    if bad.any():
        raise RecommendInputError(f"{int(bad.sum())} line(s) have a missing {list(need)} value; clean them first")
    return t.astype({c: str for c in need})


def purchase_matrix(transactions: pd.DataFrame, *, products: pd.Index | None = None) -> PurchaseMatrix:
    """The binary customer x product matrix of ``transactions`` (``customer_id``, ``product``).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Purchase lines (returns removed).
    products : pandas.Index, optional
        Column order; products not in it are left out.

    Returns
    -------
    PurchaseMatrix

    Raises
    ------
    RecommendInputError
        Missing columns or values, return lines among the purchases.
    """
    t = _lines(transactions, ["customer_id", "product"]).drop_duplicates()
    cust = pd.Index(sorted(t["customer_id"].unique()))
    prod = pd.Index(sorted(t["product"].unique())) if products is None else products
    j = prod.get_indexer(t["product"])
    keep = j >= 0
    i = cust.get_indexer(t["customer_id"][keep])
    m = sparse.csr_matrix((np.ones(int(keep.sum())), (i, j[keep])), shape=(len(cust), len(prod)))
    m.data[:] = 1.0
    return PurchaseMatrix(m, cust, prod)


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise RecommendInputError(f"k must be a whole number >= 1, got {shown(k)}")
    return int(k)


class _Base(NotFittedAttributes, BaseEstimator):
    """Shared ``recommend``: top-k unseen products by score, filled by popularity.

    A scikit-learn ``BaseEstimator``: ``get_params`` / ``set_params`` / ``sklearn.base.clone`` work on the settings
    of ``__init__`` (fourth newcomer finding H10).
    """

    def _scores(self, rows: sparse.csr_matrix) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_popularity(self, pm: PurchaseMatrix) -> None:
        self.products_ = pm.products
        self.popularity_ = np.asarray(pm.matrix.sum(axis=0)).ravel()
        self.history_ = pm

    def recommend(self, customers: Sequence[str] | pd.Index | None = None, *, k: int = 10) -> pd.DataFrame:
        """Top-``k`` products each customer has not bought.

        Parameters
        ----------
        customers : sequence of str, optional
            Customers to recommend for; default every customer of the
            training data. Unknown customers get the popular products.
        k : int, default 10
            Products per customer.

        Returns
        -------
        pandas.DataFrame
            ``customer_id``, ``rank`` (1..k), ``product``, ``score`` (NaN
            where filled from popularity), ``source`` (``"model"`` /
            ``"popularity"``); fewer than ``k`` rows only when the customer
            bought nearly every product.
        """
        k = _check_k(k)
        pm = self.history_
        ids = pm.customers if customers is None else pd.Index(pd.Series(list(customers)).astype(str))
        if len(ids) > _CHUNK:  # bounded memory: the dense score block is customers x products
            return pd.concat([self.recommend(ids[a:a + _CHUNK], k=k) for a in range(0, len(ids), _CHUNK)],
                             ignore_index=True)
        rows_idx = pm.customers.get_indexer(ids)
        known = rows_idx >= 0
        n_prod = len(self.products_)
        hist = sparse.csr_matrix((len(ids), n_prod))
        if known.any():
            sel = sparse.csr_matrix((np.ones(int(known.sum())), (np.flatnonzero(known), rows_idx[known])),
                                    shape=(len(ids), len(pm.customers)))
            hist = (sel @ pm.matrix).tocsr()
        scores = self._scores(hist)
        bought = hist.toarray() > 0
        pop_rank = np.argsort(-self.popularity_, kind="stable")
        out_c, out_r, out_p, out_s, out_src = [], [], [], [], []
        for r, cid in enumerate(ids):
            s = scores[r].astype("float64").copy()
            s[bought[r]] = -np.inf
            cand = np.flatnonzero(s > 0)
            top = cand[np.lexsort((cand, -s[cand]))][:k]
            chosen = list(top)
            src = ["model"] * len(chosen)
            if len(chosen) < k:
                taken = set(chosen)
                for j in pop_rank:
                    if len(chosen) >= k:
                        break
                    if j not in taken and not bought[r, j]:
                        chosen.append(j)
                        src.append("popularity")
                        taken.add(j)
            for rank, (j, sr) in enumerate(zip(chosen, src), start=1):
                out_c.append(cid)
                out_r.append(rank)
                out_p.append(self.products_[j])
                out_s.append(s[j] if sr == "model" else np.nan)
                out_src.append(sr)
        return pd.DataFrame({
            "customer_id": pd.array(out_c, dtype="string"), "rank": np.asarray(out_r, dtype="int64"),
            "product": pd.array(out_p, dtype="string"), "score": np.asarray(out_s, dtype="float64"),
            "source": pd.array(out_src, dtype="string"),
        })


class PopularityRecommender(_Base):
    """The products bought by the most customers, less those the customer has (the baseline)."""

    def fit(self, transactions: pd.DataFrame) -> "PopularityRecommender":
        """Count the customers of every product.

        Parameters
        ----------
        transactions : pandas.DataFrame
            Purchase lines with ``customer_id`` and ``product``.

        Returns
        -------
        self
        """
        self._fit_popularity(purchase_matrix(transactions))
        return self

    def _scores(self, rows: sparse.csr_matrix) -> np.ndarray:
        return np.tile(self.popularity_.astype("float64"), (rows.shape[0], 1))


class ItemSimilarityRecommender(_Base):
    """Item-item collaborative filtering with cosine similarity.

    Parameters
    ----------
    n_neighbours : int, default 50
        Most similar products kept per product (the others count 0).
    min_customers : int, default 1
        Products bought by fewer customers are never recommended (noise).

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix, shape (n_products, n_products)
        Kept similarities (diagonal 0).
    products_ : pandas.Index
    popularity_ : numpy.ndarray
        Customers per product.
    """

    def __init__(self, *, n_neighbours: int = 50, min_customers: int = 1) -> None:
        self.n_neighbours = n_neighbours
        self.min_customers = min_customers

    def fit(self, transactions: pd.DataFrame) -> "ItemSimilarityRecommender":
        """Cosine similarities between the products' customer vectors.

        Parameters
        ----------
        transactions : pandas.DataFrame
            Purchase lines with ``customer_id`` and ``product``.

        Returns
        -------
        self
        """
        _check_k(self.n_neighbours)
        pm = purchase_matrix(transactions)
        self._fit_popularity(pm)
        X = pm.matrix.tocsc()
        co = (X.T @ X).tocsr().astype("float64")  # customers of both
        norm = np.sqrt(self.popularity_.astype("float64"))
        inv = sparse.diags(np.where(norm > 0, 1.0 / np.maximum(norm, 1e-300), 0.0))
        sim = (inv @ co @ inv).tocsr()
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        rare = self.popularity_ < self.min_customers
        if rare.any():
            sim = (sim @ sparse.diags((~rare).astype("float64"))).tocsr()
        # keep the n_neighbours largest per row
        rows, cols, vals = [], [], []
        for r in range(sim.shape[0]):
            a, b = sim.indptr[r], sim.indptr[r + 1]
            v, c = sim.data[a:b], sim.indices[a:b]
            if v.size > self.n_neighbours:
                top = np.argpartition(-v, self.n_neighbours - 1)[: self.n_neighbours]
                v, c = v[top], c[top]
            rows.append(np.full(v.size, r))
            cols.append(c)
            vals.append(v)
        self.similarity_ = sparse.csr_matrix(
            (np.concatenate(vals) if vals else [], (np.concatenate(rows) if rows else [],
                                                     np.concatenate(cols) if cols else [])),
            shape=sim.shape)
        return self

    def _scores(self, rows: sparse.csr_matrix) -> np.ndarray:
        return np.asarray((rows @ self.similarity_).todense())


def association_rules(
    transactions: pd.DataFrame,
    *,
    basket: str = "order_id",
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    max_len: int = 2,
) -> pd.DataFrame:
    """Association rules between products bought together, mined with FP-growth (``mlxtend``).

    Parameters
    ----------
    transactions : pandas.DataFrame
        Purchase lines with ``product`` and the basket column.
    basket : str, default "order_id"
        What makes a basket: ``"order_id"`` (products bought in one order) or
        ``"customer_id"`` (products of one customer).
    min_support : float, default 0.01
        Least share of baskets holding the rule's products.
    min_confidence : float, default 0.1
        Least P(consequent | antecedent).
    max_len : int, default 2
        Largest itemset (2: rules of one product to one product).

    Returns
    -------
    pandas.DataFrame
        ``antecedent``, ``consequent`` (products joined by ``" + "``),
        ``antecedent_support``, ``consequent_support``, ``support``,
        ``confidence``, ``lift``, ``baskets`` (baskets with both), sorted by
        lift then confidence, descending.

    Raises
    ------
    RecommendInputError
        Missing columns, a support or confidence outside (0, 1], return
        lines among the purchases.
    """
    from mlxtend.frequent_patterns import association_rules as mx_rules
    from mlxtend.frequent_patterns import fpgrowth

    for name, v in (("min_support", min_support), ("min_confidence", min_confidence)):
        if not (isinstance(v, (int, float)) and 0 < v <= 1):
            raise RecommendInputError(f"{name} must be a share in (0, 1], got {shown(v)}")
    t = _lines(transactions, [basket, "product"]).drop_duplicates()
    baskets = pd.Index(sorted(t[basket].unique()))
    prods = pd.Index(sorted(t["product"].unique()))
    m = sparse.csr_matrix((np.ones(len(t), dtype=bool), (baskets.get_indexer(t[basket]),
                                                          prods.get_indexer(t["product"]))),
                          shape=(len(baskets), len(prods)), dtype=bool)
    # only products frequent on their own can be in a frequent itemset (anti-monotony): a smaller matrix
    keep = np.asarray(m.sum(axis=0)).ravel() >= min_support * len(baskets)
    cols = [str(p) for p in prods[keep]]
    empty = pd.DataFrame(columns=["antecedent", "consequent", "antecedent_support", "consequent_support",
                                  "support", "confidence", "lift", "baskets"])
    if len(cols) < 2:
        return empty
    df = pd.DataFrame.sparse.from_spmatrix(m[:, keep], columns=cols).astype(pd.SparseDtype(bool, False))
    freq = fpgrowth(df, min_support=min_support, use_colnames=True, max_len=max_len)
    if freq.empty or (freq["itemsets"].map(len) < 2).all():
        return empty
    import warnings

    with warnings.catch_warnings():
        # mlxtend also computes metrics not used here ('certainty' divides by 0 for a product in every basket)
        warnings.filterwarnings("ignore", message="invalid value encountered in divide", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="divide by zero encountered", category=RuntimeWarning)
        rules = mx_rules(freq, num_itemsets=len(baskets), metric="confidence", min_threshold=min_confidence)
    if rules.empty:
        return empty
    out = pd.DataFrame({
        "antecedent": rules["antecedents"].map(lambda s: " + ".join(sorted(s))),
        "consequent": rules["consequents"].map(lambda s: " + ".join(sorted(s))),
        "antecedent_support": rules["antecedent support"].astype(float),
        "consequent_support": rules["consequent support"].astype(float),
        "support": rules["support"].astype(float),
        "confidence": rules["confidence"].astype(float),
        "lift": rules["lift"].astype(float),
    })
    out["baskets"] = np.rint(out["support"] * len(baskets)).astype("int64")
    out = out.sort_values(["lift", "confidence", "antecedent", "consequent"], ascending=[False, False, True, True])
    return out.reset_index(drop=True)


class AssociationRuleRecommender(_Base):
    """Recommend the consequents of the rules whose antecedent the customer bought.

    Parameters
    ----------
    basket : str, default "order_id"
        Basket column for the rules (see :func:`association_rules`).
    min_support : float, default 0.005
    min_confidence : float, default 0.05

    Attributes
    ----------
    rules_ : pandas.DataFrame
        The one-to-one rules used.
    products_ : pandas.Index
    popularity_ : numpy.ndarray
    """

    def __init__(self, *, basket: str = "order_id", min_support: float = 0.005, min_confidence: float = 0.05) -> None:
        self.basket = basket
        self.min_support = min_support
        self.min_confidence = min_confidence

    def fit(self, transactions: pd.DataFrame) -> "AssociationRuleRecommender":
        """Mine the rules and count the customers of every product.

        Parameters
        ----------
        transactions : pandas.DataFrame
            Purchase lines with ``customer_id``, ``product`` and the basket column.

        Returns
        -------
        self
        """
        pm = purchase_matrix(transactions)
        self._fit_popularity(pm)
        rules = association_rules(transactions, basket=self.basket, min_support=self.min_support,
                                  min_confidence=self.min_confidence, max_len=2)
        self.rules_ = rules
        n = len(pm.products)
        if rules.empty:
            self._conf = sparse.csr_matrix((n, n))
            return self
        i = pm.products.get_indexer(rules["antecedent"])
        j = pm.products.get_indexer(rules["consequent"])
        # score = confidence plus a lift tie-break far below the confidence steps
        val = rules["confidence"].to_numpy() + 1e-6 * np.tanh(rules["lift"].to_numpy() / 100)
        self._conf = sparse.csr_matrix((val, (i, j)), shape=(n, n))
        return self

    def _scores(self, rows: sparse.csr_matrix) -> np.ndarray:
        out = np.zeros((rows.shape[0], len(self.products_)))
        conf = self._conf.tocsr()
        for r in range(rows.shape[0]):
            items = rows.indices[rows.indptr[r]:rows.indptr[r + 1]]
            if items.size:
                out[r] = conf[items].max(axis=0).toarray().ravel()
        return out
