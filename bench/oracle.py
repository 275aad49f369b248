"""Model quality on both synthetic utilities: held-out figures of the model, the points baseline and, where the
true probabilities are known, the oracle.

    .venv/bin/python bench/oracle.py                      # 20,000 customers each
    .venv/bin/python bench/oracle.py --customers 5000 --demo-customers 5000

- The evaluation utility (scoring.synthetic): a latent financial stress, district shocks, returned debits and
  moves, written only for evaluation; its true probabilities of default are simulated, so the gap to the
  oracle says how much a better model could still gain.
- The demo utility (recovery.demo): the utility the features were first written against.

Each is trained as of 90 days before its last day (rolling origins, validation window, calibration) and
evaluated on the window after that date, on which nothing was fitted or tuned. Prints one JSON object and a
table; exits non-zero when the model does not beat the baseline (a wrong result, not a slow one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import ArrearsModel, build_features, default_labels, evaluate_window, synthetic, train  # noqa: E402
from scoring.evaluate import metrics  # noqa: E402
from tests.scoring.demo import allocate, demo_frames  # noqa: E402

KEYS = ("n", "default_rate", "roc_auc", "capture_10", "brier")


def evaluation_utility(customers: int, seed: int, replicates: int) -> dict:
    utility = synthetic.generate(customers=customers, months=30, seed=seed)
    frames = utility.frames(allocate(utility.bills, utility.payments))
    as_of = utility.end - dt.timedelta(days=90)
    result = train(frames, as_of, model=ArrearsModel(random_state=seed))
    figures = evaluate_window(result.model, frames, as_of, baseline=result.baseline)
    truth = synthetic.true_pd(utility, as_of, replicates=replicates)
    y = _labels(frames, as_of)       # the customers and outcomes evaluate_window scored
    figures["oracle"] = metrics(y.to_numpy(), truth.reindex(y.index).to_numpy())
    return {"as_of": as_of.isoformat(), "validation": result.evaluation["model"]["roc_auc"], **figures}


def _labels(frames, as_of):
    y = default_labels(frames.bills, frames.allocations, as_of)
    return y.loc[y.index.isin(build_features(frames, as_of).index)]


def demo_utility(customers: int, seed: int) -> dict:
    end = dt.date(2026, 5, 10)
    frames = demo_frames(customers=customers, seed=seed, as_of=end)
    as_of = end - dt.timedelta(days=90)
    result = train(frames, as_of, model=ArrearsModel(random_state=seed))
    return {"as_of": as_of.isoformat(), "validation": result.evaluation["model"]["roc_auc"],
            **evaluate_window(result.model, frames, as_of, baseline=result.baseline)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000, help="customers of the evaluation utility")
    parser.add_argument("--demo-customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replicates", type=int, default=400, help="futures simulated for the true probabilities")
    args = parser.parse_args()
    out = {}
    for name, run in (("evaluation", lambda: evaluation_utility(args.customers, args.seed, args.replicates)),
                      ("demo", lambda: demo_utility(args.demo_customers, args.seed))):
        start = time.perf_counter()
        out[name] = run()
        out[name]["seconds"] = round(time.perf_counter() - start, 1)
    for r in out.values():
        for who in ("model", "baseline", "oracle"):
            if who in r:
                r[who] = {k: r[who][k] for k in KEYS}
    print(json.dumps(out, indent=1))
    print(f"{'utility':<11} {'who':<9} {'n':>7} {'rate':>6} {'AUC':>6} {'cap@10':>7} {'Brier':>7}")
    for name, r in out.items():
        for who in ("model", "baseline", "oracle"):
            if who in r:
                m = r[who]
                print(f"{name:<11} {who:<9} {m['n']:>7} {m['default_rate']:>6.3f} {m['roc_auc']:>6.3f} "
                      f"{m['capture_10']:>7.3f} {m['brier']:>7.4f}")
        if "oracle" in r:
            gap = r["oracle"]["roc_auc"] - r["model"]["roc_auc"]
            print(f"{name:<11} oracle gap (oracle AUC - model AUC): {gap:.3f}")
    if any(r["model"]["roc_auc"] <= r["baseline"]["roc_auc"] for r in out.values()):
        sys.exit("the model does not beat the points baseline")


if __name__ == "__main__":
    main()
