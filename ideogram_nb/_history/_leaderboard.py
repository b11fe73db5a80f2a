"""The leaderboard: every vote in the history on one axis, as a Bradley–Terry ranking.

Why Bradley–Terry (fitted by `choix`): votes compare values two at a time, across many
comparisons that each saw only some values; BT puts them all on one scale where the chance that
value i beats value j is 1 / (1 + exp(s_j − s_i)). Why a prior: a value that won every vote has
an infinite maximum-likelihood strength; a weak Gaussian prior (`LEADERBOARD_PRIOR`, the L2
penalty `choix` adds) keeps it finite and pulls values with few votes towards the average.

How a vote becomes comparisons: an A/B vote is one comparison (A won, B won, or a tie = half a
win each); "best of a row/column" is one win of the chosen value over every other value in that
line. Only the latest vote per pair or line counts (`History.votes(latest=True)`).

Intervals: the normal approximation at the fit, from the inverse Hessian of the penalised
negative log-likelihood (`choix`'s own Hessian; its inverse is the posterior covariance under the
prior), for strengths centred on their mean. Fewer votes, flatter likelihood, wider interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import NormalDist
from typing import Any

from .._config import LEADERBOARD_LEVEL, LEADERBOARD_PRIOR

#: `meta["kind"]` of a "best cell of a row or column" vote (A/B votes have no kind).
BEST_KIND = "best"


def comparisons(votes: Iterable[Mapping[str, Any]], field: str) -> list[tuple[str, str, float]]:
    """(value i, value j, score of i: 1 win, 0 loss, 0.5 tie) for every vote on `field`."""
    out: list[tuple[str, str, float]] = []
    for vote in votes:
        meta = vote.get("meta") or {}
        if meta.get("field") != field:
            continue
        if meta.get("kind") == BEST_KIND:
            winner = str(meta.get("winner"))
            out += [(winner, str(v), 1.0) for v in dict.fromkeys(map(str, meta.get("values") or [])) if v != winner]
            continue
        a, b = str(meta.get("a")), str(meta.get("b"))
        if a != b:
            out.append((a, b, {"A": 1.0, "B": 0.0}.get(str(vote.get("choice")), 0.5)))
    return out


def leaderboard(
    votes: Iterable[Mapping[str, Any]],
    field: str,
    *,
    prior: float = LEADERBOARD_PRIOR,
    level: float = LEADERBOARD_LEVEL,
) -> list[dict[str, Any]]:
    """Rows best first: value, strength, ci_low, ci_high, wins, losses, ties, comparisons,
    ahead_of_next (its interval lies wholly above the next row's: the order is settled)."""
    games = comparisons(votes, field)
    if not games:
        return []
    values = sorted({v for a, b, _ in games for v in (a, b)})
    at = {v: i for i, v in enumerate(values)}
    counts = {v: {"wins": 0, "losses": 0, "ties": 0} for v in values}
    # choix takes (winner, loser) pairs without weights: a decisive vote goes in twice and a tie
    # once each way, i.e. every likelihood term doubled, so the penalty is doubled to match.
    data: list[tuple[int, int]] = []
    for a, b, s in games:
        i, j = at[a], at[b]
        if s == 0.5:
            data += [(i, j), (j, i)]
            counts[a]["ties"] += 1
            counts[b]["ties"] += 1
        else:
            win, lose = (i, j) if s == 1.0 else (j, i)
            data += [(win, lose), (win, lose)]
            counts[values[win]]["wins"] += 1
            counts[values[lose]]["losses"] += 1
    strength, se = _fit(len(values), data, prior)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    rows: list[dict[str, Any]] = [
        {
            "value": v, "strength": round(float(strength[i]), 4),
            "ci_low": round(float(strength[i] - z * se[i]), 4), "ci_high": round(float(strength[i] + z * se[i]), 4),
            **counts[v], "comparisons": sum(counts[v].values()),
        }
        for i, v in enumerate(values)
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r["strength"], str(r["value"])))
    for k, row in enumerate(rows):
        row["ahead_of_next"] = k + 1 < len(rows) and row["ci_low"] > rows[k + 1]["ci_high"]
    return rows


def _fit(n: int, data: list[tuple[int, int]], prior: float) -> tuple[Any, Any]:
    """Strengths (mean 0) and their standard errors; choix and numpy load here, on first use."""
    import choix
    import numpy as np
    from choix.opt import PairwiseFcts

    alpha = 2 * prior  # see the doubling above
    params = np.asarray(choix.opt_pairwise(n, data, alpha=alpha), dtype=np.float64)
    params = params - params.mean()
    hessian = PairwiseFcts(data, alpha).hessian(params) / 2  # back to one term per vote
    # Votes say nothing about a shift of every strength at once: the intervals are of the
    # centred strengths (covariance C Σ C', C = I − 11'/n), not of that arbitrary level.
    centre = np.eye(n) - 1.0 / n
    cov = centre @ np.linalg.inv(hessian) @ centre.T
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return params, se
