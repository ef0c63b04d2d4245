"""Uplift targeting on the demo shop: does ranking by estimated incremental response beat ranking by risk?

    .venv/bin/python bench/uplift.py                         # 20,000 customers, a 14,000-member campaign
    .venv/bin/python bench/uplift.py --customers 5000 --top 3000 [--json]

Protocol: seed, index (unless --no-index), train and score a demo shop in a temporary folder; run one campaign on the `--top` riskiest
active customers with a 50 % random holdout (template drafts, the policy's offer per customer, sent to an
outbox), advance the shop by the window. Its reachable members (consent, open account) are the data. The
uplift models (X- and T-learner, winback/model/uplift.py) are cross-fitted: 5 folds by customer, each
member's estimate comes from the models that did not see it. Every ranking is judged on the same members
against the simulator's planted effect of the offer the policy chose for them (demo_truth: P(order in the
window | offer at the start) - P(order | none), closed form), which no model reads; the Qini coefficient
uses the observed outcomes instead. Targeting: each ranking spends the same budget (a quarter of what
offering everyone would cost) from its top down; incremental saves = the planted effects summed over the
customers it reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.campaign_lift import Steps, run_campaign, scored_demo  # noqa: E402
from winback.data.demo.response import saved_probability  # noqa: E402
from winback.data.schema import CampaignMember, ChurnScore, DemoTruth, Offer  # noqa: E402
from winback.model.dataset import customer_bucket  # noqa: E402
from winback.model.encoding import FeatureEncoder  # noqa: E402
from winback.model.features import CATEGORICAL, NUMERIC  # noqa: E402
from winback.model.metrics import auuc_against_truth, qini_coefficient  # noqa: E402
from winback.model.uplift import fit_uplift  # noqa: E402
from winback.offers.campaigns import CohortArgs  # noqa: E402
from winback.offers.policy import load_policy  # noqa: E402
from winback.offers.uplift import uplift_rows  # noqa: E402

FOLDS = 5
BUDGET_SHARE = 0.25


def cross_fitted(rows, learner: str, seed: int) -> np.ndarray:
    fold = customer_bucket(rows.features.index, "uplift-folds") % FOLDS
    out = np.full(len(fold), np.nan)
    for k in range(FOLDS):
        train, test = fold != k, fold == k
        encoder = FeatureEncoder.fit(rows.features[train], NUMERIC, CATEGORICAL)
        model = fit_uplift(
            encoder,
            rows.features[train],
            rows.treated[train],
            rows.saved[train],
            rows.offer_type[train],
            learner,
            seed,  # type: ignore[arg-type]
        )
        out[test] = model.effect(rows.features[test], rows.offer_type[test])
    return out


def member_facts(engine, campaign: str, ids: list[str], window: float, valid_days: float):
    """Planted effect of each member's offer, the risk it was chosen by, and what its offer costs."""
    with engine.connect() as connection:
        truth = {
            r.customer_id: r
            for r in connection.execute(
                select(DemoTruth.customer_id, DemoTruth.response_type, DemoTruth.reorder_rate, DemoTruth.offer_response)
            )
        }
        members = {
            r.customer_id: r
            for r in connection.execute(
                select(
                    CampaignMember.customer_id,
                    CampaignMember.churn_probability,
                    CampaignMember.planned_offer_type,
                    Offer.expected_cost,
                )
                .outerjoin(Offer, Offer.offer_id == CampaignMember.offer_id)
                .where(CampaignMember.campaign_id == campaign)
            )
        }
        value = dict(
            connection.execute(
                select(ChurnScore.customer_id, ChurnScore.predicted_value_12m).order_by(ChurnScore.scored_at)
            ).all()
        )
    effect, risk, cost, types, worth = [], [], [], [], []
    for c in ids:
        t, m = truth[c], members[c]
        rate, response = float(t.reorder_rate), float(t.offer_response)
        with_offer = saved_probability(t.response_type, rate, response, window, m.planned_offer_type, valid_days)
        effect.append(with_offer - saved_probability(t.response_type, rate, response, window))
        risk.append(float(m.churn_probability))
        cost.append(float(m.expected_cost) if m.expected_cost is not None else np.nan)
        types.append(m.planned_offer_type)
        worth.append(float(value.get(c) or 0.0))
    cost_arr, types_arr = np.array(cost), np.array(types, dtype=object)
    for t in set(types):  # holdout members have no offer row: the mean cost of their type among the treated
        same = (types_arr == t) & np.isfinite(cost_arr)
        cost_arr[(types_arr == t) & ~np.isfinite(cost_arr)] = cost_arr[same].mean() if same.any() else 0.0
    return np.array(effect), np.array(risk), cost_arr, np.array(worth)


def targeting(effect: np.ndarray, cost: np.ndarray, score: np.ndarray, budget: float, eligible=None) -> dict:
    order = np.argsort(-score, kind="stable")
    if eligible is not None:
        order = order[eligible[order]]
    spent = np.cumsum(cost[order])
    chosen = order[spent <= budget]
    saves = float(effect[chosen].sum())
    return {
        "targeted": int(len(chosen)),
        "spent": round(float(cost[chosen].sum()), 2),
        "incremental_saves": round(saves, 1),
        "saves_per_1000_spent": round(1000 * saves / max(float(cost[chosen].sum()), 1e-9), 2),
        "harmed_share": round(float((effect[chosen] < 0).mean()) if len(chosen) else 0.0, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=14_000)
    parser.add_argument("--no-index", action="store_true", help="skip indexing the texts (the model then reads none)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    steps: Steps = []
    with tempfile.TemporaryDirectory(prefix="winback-uplift-") as folder:
        data_dir = Path(folder)
        settings, engine = scored_demo(data_dir, args.customers, args.seed, steps, index=not args.no_index)
        policy = load_policy(data_dir).model_copy(update={"monthly_budget": 1e9})
        cohort = CohortArgs(top=args.top, rank="probability")
        run_campaign(engine, settings, policy, "learn", cohort, 0.5, args.seed, steps)
        rows = uplift_rows(engine)
        ids = [str(c) for c in rows.features.index]
        window = float(policy.campaign_window_days)
        effect, risk, cost, worth = member_facts(engine, "learn", ids, window, 30.0)
        scores = {f"uplift ({k.upper()}-learner)": cross_fitted(rows, k, args.seed) for k in ("x", "t")}
        engine.dispose()
    rng = np.random.default_rng(args.seed)
    scores |= {"churn risk": risk, "random": rng.random(len(ids)), "planted effect (oracle)": effect}
    budget = BUDGET_SHARE * float(cost.sum())
    x_hat = scores["uplift (X-learner)"]
    value_score = x_hat * policy.margin_rate * worth - cost  # expected incremental value, as campaigns rank
    table = {
        name: {
            "auuc_vs_planted": round(auuc_against_truth(effect, s), 3),
            "qini_observed": round(qini_coefficient(rows.treated, rows.saved, s), 4),
            **targeting(effect, cost, s, budget),
        }
        for name, s in scores.items()
    }
    table["incremental value (X-learner, lift > 0 only)"] = {
        "auuc_vs_planted": round(auuc_against_truth(effect, value_score), 3),
        "qini_observed": round(qini_coefficient(rows.treated, rows.saved, value_score), 4),
        **targeting(effect, cost, value_score, budget, eligible=(x_hat > 0) & (value_score > 0)),
    }
    result = {
        "customers": args.customers,
        "members": {"treated": int(rows.treated.sum()), "holdout": int((~rows.treated).sum())},
        "planted_mean_effect": round(float(effect.mean()), 4),
        "planted_negative_share": round(float((effect < 0).mean()), 3),
        "budget": round(budget, 2),
        "rankings": table,
        "steps": [{"step": n, "seconds": round(s, 1), "what": w} for n, s, w in steps],
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    m = result["members"]
    print(
        f"campaign 'learn': {m['treated']:,} treated / {m['holdout']:,} holdout reachable members; planted mean "
        f"effect {result['planted_mean_effect']:+.2%}, {result['planted_negative_share']:.1%} harmed by an offer; "
        f"budget {budget:,.0f} (a quarter of offering everyone)"
    )
    cols = ("auuc_vs_planted", "qini_observed", "targeted", "incremental_saves", "saves_per_1000_spent", "harmed_share")
    print("| ranking | " + " | ".join(cols) + " |\n" + "|---" * (len(cols) + 1) + "|")
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(str(row[c]) for c in cols) + " |")
    print("\n" + "\n".join(f"{s['step']}: {s['seconds']} s ({s['what']})" for s in result["steps"]))


if __name__ == "__main__":
    main()
