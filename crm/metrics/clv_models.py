"""BG/NBD and Gamma-Gamma: the predicted lifetime value models, fitted by maximum
likelihood with numpy and scipy.

Non-contractual buying: a customer makes repeat occasions at a personal Poisson
rate (gamma-distributed across customers: r, alpha) and may drop out after any
occasion with a personal probability (beta-distributed: a, b). That is the BG/NBD
model of Fader, Hardie & Lee, '"Counting your customers" the easy way' (Marketing
Science, 2005). The value of a repeat occasion follows the Gamma-Gamma model (p, q,
gamma) of Fader, Hardie & Lee, "RFM and CLV: using iso-value curves for customer
base analysis" (JMR, 2005), with the note by Fader & Hardie (2013).

Inputs per customer, in one time unit (the caller says which): ``x`` repeat
occasions (occasions after the first), ``t_x`` time from the first to the last
occasion, ``T`` time from the first occasion to the end of the data, and for
Gamma-Gamma ``m`` the mean value of the repeat occasions. Identical rows are
collapsed and weighted, so the fit costs as much for 100,000 customers as for the
few thousand distinct (x, t_x, T) they share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

# Parameters are searched on a log scale (they are all positive); the start point
# is neutral, the published CDNOW values are an order of magnitude around it.
BGNBD_START = np.log([1.0, 1.0, 1.0, 1.0])
GAMMA_GAMMA_START = np.log([1.0, 1.0, 1.0])


class FitFailed(Exception):
    """The optimiser did not converge to a usable maximum."""


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """Probability that a customer with this history has not dropped out."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        return 1.0 / (1.0 + self._dropout_odds(x, t_x, T))

    def expected_occasions_if_alive(self, t, x, T) -> np.ndarray:
        """Expected repeat occasions in the next ``t`` units, if still active."""
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return (a + b + x - 1) / (a - 1) * (1 - ratio * hyp)

    def expected_occasions(self, t, x, t_x, T) -> np.ndarray:
        """Expected repeat occasions in the next ``t`` units (Fader et al. eq. 10)."""
        return self.p_alive(x, t_x, T) * self.expected_occasions_if_alive(t, x, T)

    def _dropout_odds(self, x, t_x, T) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = (
                a
                / (b + x - 1)
                * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
            )
        return np.where(x > 0, odds, 0.0)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float

    def expected_value(self, x, m) -> np.ndarray:
        """Expected value of a future occasion, given x repeat occasions of mean m.

        With no repeat occasion the population mean p*gamma/(q-1) is returned.
        """
        x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
        p, q, g = self.p, self.q, self.gamma
        return (p * (g + x * m)) / (p * x + q - 1)

    @property
    def population_mean(self) -> float:
        """Mean value of an occasion across customers (infinite if q <= 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")


def _collapse(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and how often each occurs."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def bgnbd_log_likelihood(params, x, t_x, T, weights) -> float:
    """Total log-likelihood of the BG/NBD model (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    ln_a4 = np.where(x > 0, ln_a4, -np.inf)
    total = ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)
    return float(np.sum(weights * total))


def gamma_gamma_log_likelihood(params, x, m, weights) -> float:
    """Total log-likelihood of the Gamma-Gamma spend model (customers with x > 0)."""
    p, q, g = params
    px = p * x
    total = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + x * m)
    )
    return float(np.sum(weights * total))


def _maximise(
    log_likelihood, start: np.ndarray, args: tuple
) -> optimize.OptimizeResult:
    def negative(log_params):
        value = log_likelihood(np.exp(log_params), *args)
        return -value if np.isfinite(value) else 1e300

    # L-BFGS-B converges in tens of evaluations; Nelder-Mead, slower but sturdier
    # on a rough surface, is the fallback when it reports no convergence.
    best = optimize.minimize(negative, start, method="L-BFGS-B")
    if not best.success or best.fun >= 1e299:
        simplex = optimize.minimize(
            negative,
            best.x if best.fun < 1e299 else start,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 10000},
        )
        if simplex.fun < best.fun:
            best = simplex
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise FitFailed("The likelihood could not be evaluated at any point.")
    return best


def fit_bgnbd(x, t_x, T) -> BgNbd:
    """Fit BG/NBD to every customer with at least one occasion."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    (ux, ut, uT), weights = _collapse(x, t_x, T)
    best = _maximise(bgnbd_log_likelihood, BGNBD_START, (ux, ut, uT, weights))
    r, alpha, a, b = np.exp(best.x)
    return BgNbd(float(r), float(alpha), float(a), float(b), float(-best.fun))


def fit_gamma_gamma(x, m) -> GammaGamma:
    """Fit Gamma-Gamma to the customers with repeat occasions of positive value."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    (ux, um), weights = _collapse(x[keep], m[keep])
    best = _maximise(gamma_gamma_log_likelihood, GAMMA_GAMMA_START, (ux, um, weights))
    p, q, g = np.exp(best.x)
    return GammaGamma(float(p), float(q), float(g), float(-best.fun))
