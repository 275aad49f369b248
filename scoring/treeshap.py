"""Exact SHAP contributions of an XGBoost model, vectorised over customers: the reasons' engine at scale.

The values are XGBoost's own `pred_contribs` (path-dependent TreeSHAP: a feature left out follows the tree's
branches in proportion to the training rows that went each way, the covers), computed another way:

- Within one tree, a customer's contributions depend only on which way they go at each split, a pattern of
  bits. Customers share few patterns (a depth-4 tree has at most 15 splits, and values cluster), so each tree
  works out the contributions once per pattern present and hands them out by one gather per feature.
- A leaf's contributions depend only on which of its path's features the customer agrees with (o_j in {0, 1},
  all of that feature's splits on the path taken) and on the covers (z_j, the share of the training rows that
  took those branches). For a path of k features, Shapley's weights w(s) = s! (k - s - 1)! / k! over the other
  features' subsets give, for feature j,

      phi_j = v * (o_j - z_j) * sum_s w(s) * [t^s] prod_{i != j} (z_i + o_i t)

  tabulated once per leaf for its 2^k agreement patterns.

XGBoost's CPU TreeSHAP walks every tree for every customer (O(leaves x depth^2) each, a few microseconds);
this walks each tree once over all customers in numpy, 10-30 times faster on a million customers, and equal to
it up to float32 rounding (tests/scoring/test_treeshap.py checks the two agree).
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import xgboost as xgb

LOOKUP_BITS = 20     # trees with at most this many splits find their patterns by a lookup table, others by sorting
WORD = 62            # split decisions per int64 word of a pattern


@dataclasses.dataclass
class _Tree:
    features: np.ndarray        # the tree's distinct features (model columns)
    splits: list[tuple[int, np.float32, bool]]   # per split node: (feature, threshold, missing goes left)
    leaves: list[tuple[list[tuple[int, list[tuple[int, bool]]]], np.ndarray]]
    # per leaf: [(local feature, [(split, went left), ...]) per distinct path feature], table (2^k, k)
    expected: float             # the cover-weighted mean of the leaves


def _weights(k: int) -> np.ndarray:
    return np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])


def _leaf_table(value: float, zero: np.ndarray) -> np.ndarray:
    """phi (2^k patterns x k features) of one leaf whose path features have zero fractions `zero`."""
    k = zero.size
    w = _weights(k)
    one = (np.arange(1 << k)[:, None] >> np.arange(k)[None, :]) & 1         # every pattern's agreements
    table = np.zeros((1 << k, k))
    for j in range(k):
        poly = np.zeros((1 << k, k))                # coefficients of prod (z_i + o_i t), one row per pattern
        poly[:, 0] = 1.0
        for i in range(k):
            if i != j:
                poly[:, 1:] = poly[:, 1:] * zero[i] + poly[:, :-1] * one[:, i:i + 1]
                poly[:, 0] *= zero[i]
        table[:, j] = value * (one[:, j] - zero[j]) * (poly @ w)
    return table


def _parse(tree: dict) -> _Tree:
    left, right = tree["left_children"], tree["right_children"]
    feature, condition = tree["split_indices"], tree["split_conditions"]
    default_left, cover = tree["default_left"], tree["sum_hessian"]
    split_of: dict[int, int] = {}
    splits: list[tuple[int, np.float32, bool]] = []
    for node in range(len(left)):
        if left[node] != -1:
            split_of[node] = len(splits)
            splits.append((int(feature[node]), np.float32(condition[node]), bool(default_left[node])))
    distinct = sorted({f for f, _, _ in splits})
    local = {f: i for i, f in enumerate(distinct)}
    leaves = []
    expected = 0.0
    stack: list[tuple[int, list[tuple[int, bool]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if left[node] != -1:
            stack.append((left[node], [*path, (node, True)]))
            stack.append((right[node], [*path, (node, False)]))
            continue
        value = float(condition[node])                       # a leaf keeps its value in split_conditions
        expected += value * cover[node] / cover[0]
        order: list[int] = []
        zero: dict[int, float] = {}
        steps: dict[int, list[tuple[int, bool]]] = {}
        for parent, went_left in path:
            f = int(feature[parent])
            child = left[parent] if went_left else right[parent]
            if f not in zero:
                order.append(f)
                zero[f], steps[f] = 1.0, []
            zero[f] *= cover[child] / cover[parent]
            steps[f].append((split_of[parent], went_left))
        table = _leaf_table(value, np.array([zero[f] for f in order])) if order else np.zeros((1, 0))
        leaves.append(([(local[f], steps[f]) for f in order], table))
    return _Tree(features=np.array(distinct, dtype=np.int64), splits=splits, leaves=leaves, expected=expected)


class TreeExplainer:
    """Per-row contributions of every feature to an XGBoost booster's margin (binary:logistic), plus the bias."""

    def __init__(self, booster: xgb.Booster):
        model = json.loads(booster.save_raw(raw_format="json"))["learner"]
        objective = model["objective"]["name"]
        if objective != "binary:logistic":
            raise ValueError(f"TreeExplainer reads binary:logistic boosters, not {objective}")
        base = float(str(model["learner_model_param"]["base_score"]).strip("[]"))
        self.n_features = int(model["learner_model_param"]["num_feature"])
        self.trees = [_parse(t) for t in model["gradient_booster"]["model"]["trees"]]
        self.bias = math.log(base / (1.0 - base)) + sum(t.expected for t in self.trees)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(n, features + 1) float64: each feature's contribution, then the bias; rows sum to the margin."""
        X = np.asarray(X, dtype=np.float32)
        n = X.shape[0]
        columns = np.ascontiguousarray(X.T)                 # one feature's values contiguous
        missing = np.isnan(columns)
        out = np.zeros((self.n_features + 1, n))
        out[-1] = self.bias
        for tree in self.trees:
            if not tree.splits:
                continue
            pattern = np.zeros((n, -(-len(tree.splits) // WORD)), dtype=np.int64)
            for bit, (f, threshold, missing_left) in enumerate(tree.splits):
                goes_left = columns[f] < threshold
                if missing_left:
                    goes_left |= missing[f]
                pattern[:, bit // WORD] |= goes_left.astype(np.int64) << (bit % WORD)
            distinct, inverse = _distinct(pattern, len(tree.splits))
            per_pattern = _per_pattern(tree, distinct)        # (tree's features, distinct patterns)
            for row, f in zip(per_pattern, tree.features.tolist(), strict=True):
                out[f] += row.take(inverse)
        return out.T


def _distinct(pattern: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The patterns present (rows of words), and each row's index among them."""
    if bits <= LOOKUP_BITS:
        seen = np.zeros(1 << bits, dtype=bool)
        seen[pattern[:, 0]] = True
        distinct = np.flatnonzero(seen)
        index = np.cumsum(seen) - 1
        return distinct[:, None], index.take(pattern[:, 0])
    distinct, inverse = np.unique(pattern, axis=0, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _per_pattern(tree: _Tree, distinct: np.ndarray) -> np.ndarray:
    m = distinct.shape[0]
    out = np.zeros((tree.features.size, m))
    went = [((distinct[:, bit // WORD] >> (bit % WORD)) & 1).astype(bool) for bit in range(len(tree.splits))]
    for path, table in tree.leaves:
        code = np.zeros(m, dtype=np.int64)
        for j, (_, steps) in enumerate(path):
            agrees = np.ones(m, dtype=bool)
            for split, went_left in steps:
                agrees &= went[split] if went_left else ~went[split]
            code |= agrees.astype(np.int64) << j
        for j, (f, _) in enumerate(path):
            out[f] += table[code, j]
    return out
