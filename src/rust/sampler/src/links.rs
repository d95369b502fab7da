//! Link functions: the mean (or the success probability) as a function of the linear
//! predictor eta, with the derivatives the scores and the Fisher weights need. A link that
//! can leave the family's parameter space (identity or sqrt for counts, inverse for Gamma,
//! log for binomial) gives `None` there, and the family makes that eta impossible.

use crate::special::{ln_cdf_mills, ln_cdf_mills_both};
use crate::vmath::exp_lane;
use std::f64::consts::PI;

/// A link function g, eta = g(mu).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Identity,
    Log,
    Sqrt,
    Inverse,
    Logit,
    Probit,
    Cloglog,
    Cauchit,
}

/// A positive mean at eta: mu, ln mu, d mu / d eta and d ln mu / d eta (without dividing by
/// a mean that underflows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mean {
    pub mu: f64,
    pub ln_mu: f64,
    pub dmu: f64,
    pub dln_mu: f64,
}

/// A success probability at eta on the log scale: ln p, ln(1 - p) and their derivatives in
/// eta, accurate in both tails (ln p near 0 and ln(1 - p) near 0 alike).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prob {
    pub ln_p: f64,
    pub ln_q: f64,
    pub dln_p: f64,
    pub dln_q: f64,
}

impl Prob {
    /// The Fisher weight of one trial, (dp/deta)^2 / (p q) = -(d ln p)(d ln q).
    #[inline]
    pub fn weight(&self) -> f64 {
        -self.dln_p * self.dln_q
    }
}

impl Link {
    /// The link named `name` (as R's `family()$link`).
    pub fn from_name(name: &str) -> Option<Link> {
        Some(match name {
            "identity" => Link::Identity,
            "log" => Link::Log,
            "sqrt" => Link::Sqrt,
            "inverse" => Link::Inverse,
            "logit" => Link::Logit,
            "probit" => Link::Probit,
            "cloglog" => Link::Cloglog,
            "cauchit" => Link::Cauchit,
            _ => return None,
        })
    }

    /// R's name of the link.
    pub fn name(self) -> &'static str {
        match self {
            Link::Identity => "identity",
            Link::Log => "log",
            Link::Sqrt => "sqrt",
            Link::Inverse => "inverse",
            Link::Logit => "logit",
            Link::Probit => "probit",
            Link::Cloglog => "cloglog",
            Link::Cauchit => "cauchit",
        }
    }

    /// The mean of a family whose means are positive (poisson, negative binomial, Gamma),
    /// or None where the link gives no positive mean.
    #[inline]
    pub fn positive_mean(self, eta: f64) -> Option<Mean> {
        match self {
            Link::Log => {
                let mu = eta.exp();
                Some(Mean { mu, ln_mu: eta, dmu: mu, dln_mu: 1.0 })
            }
            Link::Identity if eta > 0.0 => Some(Mean { mu: eta, ln_mu: eta.ln(), dmu: 1.0, dln_mu: 1.0 / eta }),
            Link::Sqrt if eta > 0.0 => Some(Mean { mu: eta * eta, ln_mu: 2.0 * eta.ln(), dmu: 2.0 * eta, dln_mu: 2.0 / eta }),
            Link::Inverse if eta > 0.0 => {
                let mu = 1.0 / eta;
                Some(Mean { mu, ln_mu: -eta.ln(), dmu: -mu * mu, dln_mu: -mu })
            }
            _ => None,
        }
    }

    /// A real mean (gaussian): (mu, d mu / d eta), or None where the link has none.
    #[inline]
    pub fn real_mean(self, eta: f64) -> Option<(f64, f64)> {
        match self {
            Link::Identity => Some((eta, 1.0)),
            Link::Log => {
                let mu = eta.exp();
                Some((mu, mu))
            }
            Link::Inverse if eta != 0.0 => {
                let mu = 1.0 / eta;
                Some((mu, -mu * mu))
            }
            _ => None,
        }
    }

    /// The success probability of a binomial link, or None where it is not in (0, 1) (the
    /// log link at eta >= 0) or the link is not a binomial one.
    #[inline]
    pub fn probability(self, eta: f64) -> Option<Prob> {
        match self {
            Link::Logit => {
                let t = (-eta.abs()).exp();
                let l = t.ln_1p();
                let (small, large) = (t / (1.0 + t), 1.0 / (1.0 + t));
                Some(if eta > 0.0 {
                    Prob { ln_p: -l, ln_q: -eta - l, dln_p: small, dln_q: -large }
                } else {
                    Prob { ln_p: eta - l, ln_q: -l, dln_p: large, dln_q: -small }
                })
            }
            Link::Probit => {
                let (ln_p, dln_p, ln_q, d_q) = ln_cdf_mills_both(eta);
                Some(Prob { ln_p, ln_q, dln_p, dln_q: -d_q })
            }
            Link::Cloglog => Some(cloglog_prob(eta, cloglog_e(eta))),
            Link::Cauchit => {
                // p = 1/2 + atan(eta)/pi; the smaller of p and q as atan(1/|eta|)/pi
                let d = 1.0 / (PI * (1.0 + eta * eta));
                if eta == 0.0 {
                    let h = 0.5f64.ln();
                    return Some(Prob { ln_p: h, ln_q: h, dln_p: 2.0 * d, dln_q: -2.0 * d });
                }
                let small = (1.0 / eta.abs()).atan() / PI;
                let (p, q) = if eta > 0.0 { (1.0 - small, small) } else { (small, 1.0 - small) };
                let (ln_small, ln_large) = (small.ln(), (-small).ln_1p());
                let (ln_p, ln_q) = if eta > 0.0 { (ln_large, ln_small) } else { (ln_small, ln_large) };
                Some(Prob { ln_p, ln_q, dln_p: d / p, dln_q: -d / q })
            }
            Link::Log if eta < 0.0 => {
                let em1 = eta.exp_m1();
                Some(Prob { ln_p: eta, ln_q: (-em1).ln(), dln_p: 1.0, dln_q: eta.exp() / em1 })
            }
            _ => None,
        }
    }

    /// (ln p, d ln p / d eta) alone, which is all a row without failures needs; None where
    /// `probability` is None. The probit's (one logarithm in the lower tail) and cloglog's
    /// cost half or less of `probability`.
    #[inline]
    pub fn p_side(self, eta: f64) -> Option<(f64, f64)> {
        match self {
            Link::Probit => Some(ln_cdf_mills(eta)),
            Link::Cloglog => Some(cloglog_p_side(eta, cloglog_e(eta))),
            _ => self.probability(eta).map(|p| (p.ln_p, p.dln_p)),
        }
    }

    /// (ln q, d ln q / d eta), q = 1 - p, alone, which is all a row without successes
    /// needs; None where `probability` is None. The cloglog's is one exp.
    #[inline]
    pub fn q_side(self, eta: f64) -> Option<(f64, f64)> {
        match self {
            Link::Probit => {
                let (ln_q, d) = ln_cdf_mills(-eta);
                Some((ln_q, -d))
            }
            Link::Cloglog => {
                let e = cloglog_e(eta);
                Some((-e, -e))
            }
            _ => self.probability(eta).map(|p| (p.ln_q, p.dln_q)),
        }
    }
}

/// The cloglog link's e = exp(eta), by vmath's exp (whose lanes `BinomialLink::prepare`
/// computes for a batch of rows, with the same bits), capped at the largest double: exp(e) - 1
/// overflows first, and ln q = -e stays finite (then d ln p = 0 and the weight 0, not 0 * inf).
#[inline]
pub fn cloglog_e(eta: f64) -> f64 {
    exp_lane(eta).min(f64::MAX)
}

/// The cloglog link's probability from e = `cloglog_e(eta)`: p = 1 - exp(-e), ln q = -e,
/// d ln p = e / (exp(e) - 1), d ln q = -e.
#[inline]
pub fn cloglog_prob(eta: f64, e: f64) -> Prob {
    let (ln_p, dln_p) = cloglog_p_side(eta, e);
    Prob { ln_p, ln_q: -e, dln_p, dln_q: -e }
}

/// The cloglog link's (ln p, d ln p / d eta) from e = `cloglog_e(eta)`.
#[inline]
pub fn cloglog_p_side(eta: f64, e: f64) -> (f64, f64) {
    (cloglog_ln_p(eta, e), cloglog_dln_p(e))
}

/// The cloglog link's ln p = ln(1 - exp(-e)): eta - e/2 + O(e^2) where e is tiny (vmath's
/// exp gives 0 below -707).
#[inline]
fn cloglog_ln_p(eta: f64, e: f64) -> f64 {
    if e < 1e-10 {
        eta - 0.5 * e
    } else {
        (-(-e).exp_m1()).ln()
    }
}

/// The cloglog link's d ln p / d eta = e / (exp(e) - 1): 0 where exp(e) - 1 overflows (not
/// 0 * inf), 1 at e = 0.
#[inline]
fn cloglog_dln_p(e: f64) -> f64 {
    if e > 700.0 {
        0.0
    } else if e == 0.0 {
        1.0
    } else {
        e / e.exp_m1()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Link; 8] = [Link::Identity, Link::Log, Link::Sqrt, Link::Inverse, Link::Logit, Link::Probit, Link::Cloglog, Link::Cauchit];

    /// d/deta by central differences.
    fn diff(f: impl Fn(f64) -> f64, eta: f64) -> f64 {
        let h = 1e-6 * eta.abs().max(1.0);
        (f(eta + h) - f(eta - h)) / (2.0 * h)
    }

    #[test]
    fn positive_means_and_their_derivatives() {
        for link in [Link::Log, Link::Identity, Link::Sqrt, Link::Inverse] {
            for eta in [0.05, 0.7, 2.0, 9.0] {
                let m = link.positive_mean(eta).unwrap();
                assert!((m.ln_mu - m.mu.ln()).abs() < 1e-14 * (1.0 + m.mu.ln().abs()), "{link:?}");
                let num = diff(|e| link.positive_mean(e).unwrap().mu, eta);
                assert!((num - m.dmu).abs() < 1e-6 * (1.0 + m.dmu.abs()), "{link:?} at {eta}: {num} vs {}", m.dmu);
                assert!((m.dln_mu - m.dmu / m.mu).abs() < 1e-14 * m.dln_mu.abs(), "{link:?} at {eta}");
            }
        }
        // outside the parameter space
        for link in [Link::Identity, Link::Sqrt, Link::Inverse] {
            assert!(link.positive_mean(0.0).is_none() && link.positive_mean(-1.0).is_none(), "{link:?}");
        }
        assert!(Link::Log.positive_mean(-3.0).is_some());
        assert!(Link::Logit.positive_mean(0.3).is_none());
    }

    #[test]
    fn links_are_known_by_their_r_names() {
        for link in ALL {
            assert_eq!(Link::from_name(link.name()), Some(link));
        }
        assert_eq!(Link::from_name("loglog"), None);
    }

    #[test]
    fn real_means() {
        assert_eq!(Link::Identity.real_mean(-2.0), Some((-2.0, 1.0)));
        assert!(Link::Inverse.real_mean(0.0).is_none());
        let (mu, d) = Link::Inverse.real_mean(-4.0).unwrap();
        assert!((mu + 0.25).abs() < 1e-16 && (d + 1.0 / 16.0).abs() < 1e-16);
        assert!(Link::Probit.real_mean(0.0).is_none());
    }

    /// 1 - p, accurately: plogis(-eta), pnorm(-eta), exp(-exp(eta)), 1/2 - atan(eta)/pi,
    /// -expm1(eta).
    fn q_of(link: Link, eta: f64) -> f64 {
        match link {
            Link::Logit => 1.0 / (1.0 + eta.exp()),
            Link::Probit => 0.5 * libm::erfc(eta / std::f64::consts::SQRT_2),
            Link::Cloglog => (-eta.exp()).exp(),
            Link::Cauchit => 0.5 - eta.atan() / PI,
            Link::Log => -eta.exp_m1(),
            _ => unreachable!(),
        }
    }

    /// p from R: plogis, pnorm, 1 - exp(-exp()), pcauchy, exp, at eta.
    fn p_of(link: Link, eta: f64) -> f64 {
        match link {
            Link::Logit => 1.0 / (1.0 + (-eta).exp()),
            Link::Probit => 0.5 * libm::erfc(-eta / std::f64::consts::SQRT_2),
            Link::Cloglog => -(-eta.exp()).exp_m1(),
            Link::Cauchit => 0.5 + eta.atan() / PI,
            Link::Log => eta.exp(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn probabilities_derivatives_and_weights() {
        for link in [Link::Logit, Link::Probit, Link::Cloglog, Link::Cauchit, Link::Log] {
            let etas: &[f64] = if link == Link::Log { &[-6.0, -1.5, -0.3, -0.01] } else { &[-6.0, -1.5, 0.0, 0.4, 3.0] };
            for &eta in etas {
                let pr = link.probability(eta).unwrap();
                let p = p_of(link, eta);
                assert!((pr.ln_p - p.ln()).abs() < 1e-12 * (1.0 + p.ln().abs()), "{link:?} ln p at {eta}");
                let lq = q_of(link, eta).ln();
                assert!((pr.ln_q - lq).abs() < 1e-12 * (1.0 + lq.abs()), "{link:?} ln q at {eta}");
                let dp = diff(|e| link.probability(e).unwrap().ln_p, eta);
                let dq = diff(|e| link.probability(e).unwrap().ln_q, eta);
                assert!((dp - pr.dln_p).abs() < 1e-6 * (1.0 + dp.abs()), "{link:?} d ln p at {eta}: {dp} vs {}", pr.dln_p);
                assert!((dq - pr.dln_q).abs() < 1e-6 * (1.0 + dq.abs()), "{link:?} d ln q at {eta}: {dq} vs {}", pr.dln_q);
                // weight = (dp/deta)^2 / (p (1 - p))
                let dpdeta = diff(|e| p_of(link, e), eta);
                let w = dpdeta * dpdeta / (p * (1.0 - p));
                assert!((w - pr.weight()).abs() < 1e-6 * (1.0 + w), "{link:?} weight at {eta}: {w} vs {}", pr.weight());
            }
        }
        assert!(Link::Log.probability(0.0).is_none() && Link::Identity.probability(0.2).is_none());
    }

    #[test]
    fn one_side_is_that_of_the_probability() {
        // relative, or absolute for values near 0: ln of the larger side, from ln(1 - t) on
        // one path and from the log of a number near 1 on the other, agree to 1e-16 or so
        let close = |a: f64, b: f64| a == b || (a - b).abs() <= (1e-13 * a.abs().max(b.abs())).max(1e-15);
        for link in [Link::Probit, Link::Cloglog, Link::Cauchit, Link::Log] {
            let etas: Vec<f64> = if link == Link::Log {
                vec![-800.0, -30.0, -2.0, -0.3, -1e-9, 0.0, 0.5]
            } else {
                (0..=160).map(|k| -40.0 + 0.5 * k as f64).chain([-800.0, -37.5, 37.5, 800.0, 0.0, -1e-12]).collect()
            };
            for eta in etas {
                let (p, ps, qs) = (link.probability(eta), link.p_side(eta), link.q_side(eta));
                assert_eq!(p.is_some(), ps.is_some(), "{link:?} at {eta}");
                assert_eq!(p.is_some(), qs.is_some(), "{link:?} at {eta}");
                if let (Some(p), Some((lp, dp)), Some((lq, dq))) = (p, ps, qs) {
                    assert!(close(p.ln_p, lp) && close(p.dln_p, dp), "{link:?} p side at {eta}: {p:?} {lp} {dp}");
                    assert!(close(p.ln_q, lq) && close(p.dln_q, dq), "{link:?} q side at {eta}: {p:?} {lq} {dq}");
                    if link == Link::Cloglog {
                        assert_eq!((p.ln_p.to_bits(), p.dln_p.to_bits()), (lp.to_bits(), dp.to_bits()));
                        assert_eq!((p.ln_q.to_bits(), p.dln_q.to_bits()), (lq.to_bits(), dq.to_bits()));
                    }
                }
            }
        }
    }

    #[test]
    fn tails_stay_finite_and_accurate() {
        for link in [Link::Logit, Link::Probit, Link::Cloglog, Link::Cauchit] {
            for eta in [-800.0, -60.0, -38.0, 38.0, 60.0, 800.0] {
                let pr = link.probability(eta).unwrap();
                assert!(pr.ln_p <= 0.0 && pr.ln_q <= 0.0 && pr.ln_p.is_finite() && pr.ln_q.is_finite(), "{link:?} at {eta}: {pr:?}");
                assert!(pr.dln_p.is_finite() && pr.dln_q.is_finite() && pr.weight() >= 0.0, "{link:?} at {eta}: {pr:?}");
            }
        }
        // the far lower tail of the probit: ln Phi(-40) from R
        assert!((Link::Probit.probability(-40.0).unwrap().ln_p + 804.608_442_013_753_8).abs() < 1e-9);
        // cloglog: ln p = eta - exp(eta)/2 + ... for very negative eta
        let c = Link::Cloglog.probability(-30.0).unwrap();
        assert!((c.ln_p + 30.0).abs() < 1e-12);
        assert!(ALL.iter().all(|l| l.probability(f64::NAN).map_or(true, |p| p.ln_p.is_nan() || p.ln_p <= 0.0)));
    }
}
