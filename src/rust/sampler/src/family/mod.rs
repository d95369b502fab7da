//! Response families: the only place that knows a family by its name or its density.
//!
//! The sampler asks a family for its log density as a function of the linear predictor (for
//! Metropolis ratios) and its expected curvature, the GLM working weight (for proposal
//! covariances); whether its model is conditionally normal-linear (then every step is
//! Gibbs); its extra parameter (gaussian: sigma; negative binomial: the reciprocal
//! dispersion phi; Gamma: the shape), that parameter's step and prior; how to check a
//! response and simulate one. Terms constant in eta are dropped from the density: they
//! cancel in every ratio. [`FamilyKind`] names the supported families and links and hands
//! the sampler a family's type ([`FamilyKind::visit`]), so that a chain is compiled for one
//! family (not for each link: the families of [`glm`], [`negbin`] and [`gamma`] match
//! their link per row).
//!
//! By file: [`canonical`], the canonical links with vectorized rows (gaussian identity,
//! poisson log, binomial logit); [`glm`], the other links of those three families;
//! [`negbin`], rstanarm's `neg_binomial_2`; [`gamma`], the Gamma family.
//!
//! A family whose row log-likelihood reads its extra parameter carries it
//! ([`Family::with_extra`]): the chain hands the row loops the family at the parameter's
//! current value, and the parameter's step keeps the cached rows in line with it.
//!
//! A new family: a type implementing [`Family`] in a file here, a variant of
//! [`FamilyKind`], and a step for its extra parameter (if it has one) in `steps/extra/`.

/// The gaussian families' extra parameter, for their `Family` impls: named sigma, carried
/// by the chain as sigma^2, with a scaled-inverse-chi^2 prior (`check_sigma_prior`).
macro_rules! gaussian_sigma_extra {
    () => {
        fn extra_name(&self) -> Option<&'static str> {
            Some("sigma")
        }
        fn check_extra_prior(&self, prior: &ExtraPrior) -> Result<(), String> {
            check_sigma_prior(prior)
        }
        fn extra_start(&self, sigma: f64) -> f64 {
            sigma * sigma
        }
        fn extra_value(&self, sigma2: f64) -> f64 {
            sigma2.sqrt()
        }
    };
}

pub mod canonical;
pub mod gamma;
pub mod glm;
pub mod negbin;

pub use canonical::{log1p_exp, Binomial, Gaussian, Poisson};
pub use gamma::GammaFam;
pub use glm::{BinomialLink, GaussianLink, PoissonLink};
pub use negbin::NegBinomial;

use crate::error::Error;
use crate::links::Link;
use crate::steps::extra::{ExtraData, ExtraState};
use rand::Rng;

/// Prior of a family's extra parameter: gaussian sigma^2 ~ scaled-inv-chi^2(df, scale^2);
/// the negative binomial's phi and the Gamma shape ~ exponential(rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExtraPrior {
    pub df: f64,
    pub scale: f64,
    pub rate: f64,
}

/// An exponential-family response with a fixed link.
pub trait Family: Send + Sync {
    /// Name as R's `family()$family`.
    fn name(&self) -> &'static str;
    /// (loglik, score) of a row, one transcendental evaluation where the family allows:
    /// log f(y | eta) up to terms that do not depend on eta, and its derivative in eta (for
    /// Langevin proposals). `n` is the number of binomial trials (ignored elsewhere). Where
    /// eta gives no valid mean (a link that can leave the parameter space): (-inf, 0),
    /// never NaN.
    fn loglik_score(&self, y: f64, n: f64, eta: f64) -> (f64, f64);
    /// log f(y | eta) up to terms that do not depend on eta.
    fn loglik(&self, y: f64, n: f64, eta: f64) -> f64 {
        self.loglik_score(y, n, eta).0
    }
    /// d loglik / d eta (the score).
    fn score(&self, y: f64, n: f64, eta: f64) -> f64 {
        self.loglik_score(y, n, eta).1
    }
    /// The transcendental parts of `loglik_score` for a batch of linear predictors, into `t`
    /// and `u` (Poisson: exp(eta); binomial: exp(-|eta|) and its ln(1 + .)), 4 or 8 rows at
    /// a time where the CPU allows; `loglik_score_prepared` finishes each row. Nothing by
    /// default.
    fn prepare(&self, _eta: &[f64], _t: &mut [f64], _u: &mut [f64]) {}
    /// `loglik_score(y, n, eta)` from `t` and `u` filled by `prepare`, bit for bit.
    fn loglik_score_prepared(&self, y: f64, n: f64, eta: f64, _t: f64, _u: f64) -> (f64, f64) {
        self.loglik_score(y, n, eta)
    }
    /// Fisher information of eta: -E[d^2 loglik / d eta^2] ((d mu / d eta)^2 / Var y); 0
    /// where eta is not valid.
    fn weight(&self, n: f64, eta: f64) -> f64;
    /// True when the model is conditionally normal-linear, so every step can be Gibbs.
    fn all_gibbs(&self) -> bool {
        false
    }
    /// Whether the likelihood reads the number of trials per row.
    fn uses_trials(&self) -> bool {
        false
    }
    /// Checks the response (finite already; `trials` as given, empty if none).
    fn check_response(&self, _y: &[f64], _trials: &[f64]) -> Result<(), String> {
        Ok(())
    }
    /// The name in the draws of the family's parameter besides eta ("sigma",
    /// "reciprocal_dispersion", "shape"), if any.
    fn extra_name(&self) -> Option<&'static str> {
        None
    }
    /// Checks the prior of the extra parameter (families that have one).
    fn check_extra_prior(&self, _prior: &ExtraPrior) -> Result<(), String> {
        Ok(())
    }
    /// The chain's state of the extra parameter from its starting value (gaussian: sigma^2
    /// from sigma; phi and the shape as they are); families without one keep 0.
    fn extra_start(&self, _init: f64) -> f64 {
        0.0
    }
    /// The value kept in the draws for the state `extra` (gaussian: sigma).
    fn extra_value(&self, extra: f64) -> f64 {
        extra
    }
    /// The family at the state `extra` of its extra parameter, for a family whose row
    /// log-likelihood reads it (the others are returned as they are).
    fn with_extra(self, _extra: f64) -> Self
    where
        Self: Sized,
    {
        self
    }
    /// Rebuilds what the extra parameter's step keeps of the response (at a chain's start,
    /// and whenever the response changes).
    fn observe_response(&self, _y: &[f64], _st: &mut ExtraState) {}
    /// The extra parameter's step in the sweep: its new state given the response and the
    /// rows, from the state `extra` (the family is at `extra`). A step that changes the
    /// state leaves the rows' cached log-likelihood and score at the new state; a
    /// Metropolis step records its proposals in `st` (the chain adapts its step size from
    /// them in warmup).
    fn draw_extra<R: Rng + ?Sized>(&self, _rng: &mut R, _d: ExtraData, _prior: &ExtraPrior, _st: &mut ExtraState, extra: f64) -> f64
    where
        Self: Sized,
    {
        extra
    }
    /// A response drawn given eta, the trials and the extra parameter's state (Geweke's test).
    fn simulate<R: Rng + ?Sized>(&self, rng: &mut R, eta: f64, trials: f64, extra: f64) -> f64
    where
        Self: Sized;
}

/// The supported families, with their link where it is not the canonical one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyKind {
    /// gaussian, identity link (all Gibbs).
    Gaussian,
    /// poisson, log link.
    Poisson,
    /// binomial, logit link.
    Binomial,
    /// gaussian, log or inverse link.
    GaussianLink(Link),
    /// poisson, identity or sqrt link.
    PoissonLink(Link),
    /// binomial, probit, cloglog, cauchit or log link.
    BinomialLink(Link),
    /// neg_binomial_2, log, identity or sqrt link.
    NegBinomial(Link),
    /// Gamma, log, inverse or identity link.
    Gamma(Link),
}

/// Work to do with a family's type (see [`FamilyKind::visit`]).
pub trait FamilyVisitor {
    type Output;
    fn visit<F: Family + Copy>(self, fam: F) -> Self::Output;
}

/// Each family's name (as R's `family()$family`) and its links (the first is R's default).
const FAMILIES: [(&str, &[&str]); 5] = [
    ("gaussian", &["identity", "log", "inverse"]),
    ("poisson", &["log", "identity", "sqrt"]),
    ("binomial", &["logit", "probit", "cloglog", "cauchit", "log"]),
    ("neg_binomial_2", &["log", "identity", "sqrt"]),
    ("Gamma", &["inverse", "log", "identity"]),
];

impl FamilyKind {
    /// The family named `name` (as R's `family()$family`) with the link named `link` (as
    /// `family()$link`; empty: the family's default, R's), or an error that lists the
    /// supported ones.
    pub fn from_names(name: &str, link: &str) -> Result<Self, Error> {
        let Some((_, links)) = FAMILIES.iter().find(|(f, _)| *f == name) else {
            let names: Vec<&str> = FAMILIES.iter().map(|(f, _)| *f).collect();
            return Err(Error::invalid(format!("family '{name}' is not supported: use {}", names.join(", "))));
        };
        let link = if link.is_empty() { links[0] } else { link };
        let Some(l) = links.contains(&link).then(|| Link::from_name(link)).flatten() else {
            return Err(Error::invalid(format!("the {name} family has no link '{link}': use {}", links.join(", "))));
        };
        Ok(match (name, l) {
            ("gaussian", Link::Identity) => FamilyKind::Gaussian,
            ("gaussian", l) => FamilyKind::GaussianLink(l),
            ("poisson", Link::Log) => FamilyKind::Poisson,
            ("poisson", l) => FamilyKind::PoissonLink(l),
            ("binomial", Link::Logit) => FamilyKind::Binomial,
            ("binomial", l) => FamilyKind::BinomialLink(l),
            ("neg_binomial_2", l) => FamilyKind::NegBinomial(l),
            (_, l) => FamilyKind::Gamma(l),
        })
    }

    /// The link.
    pub fn link(self) -> Link {
        match self {
            FamilyKind::Gaussian => Link::Identity,
            FamilyKind::Poisson => Link::Log,
            FamilyKind::Binomial => Link::Logit,
            FamilyKind::GaussianLink(l) | FamilyKind::PoissonLink(l) | FamilyKind::BinomialLink(l) | FamilyKind::NegBinomial(l) | FamilyKind::Gamma(l) => l,
        }
    }

    /// The name of the family's extra parameter in the draws, if any (without the
    /// allocation of `family()`: the layout of every kept draw asks).
    pub fn extra_name(self) -> Option<&'static str> {
        struct ExtraName;
        impl FamilyVisitor for ExtraName {
            type Output = Option<&'static str>;
            fn visit<F: Family + Copy>(self, fam: F) -> Self::Output {
                fam.extra_name()
            }
        }
        self.visit(ExtraName)
    }

    /// The family as a trait object, for what runs outside the sweeps (its extra
    /// parameter, if any, at 1).
    pub fn family(self) -> Box<dyn Family> {
        match self {
            FamilyKind::Gaussian => Box::new(Gaussian),
            FamilyKind::Poisson => Box::new(Poisson),
            FamilyKind::Binomial => Box::new(Binomial),
            FamilyKind::GaussianLink(link) => Box::new(GaussianLink::new(link, 1.0)),
            FamilyKind::PoissonLink(link) => Box::new(PoissonLink { link }),
            FamilyKind::BinomialLink(link) => Box::new(BinomialLink { link }),
            FamilyKind::NegBinomial(link) => Box::new(NegBinomial::new(link, 1.0)),
            FamilyKind::Gamma(link) => Box::new(GammaFam::new(link, 1.0)),
        }
    }

    /// Runs `v` with the family's type, so that what it runs is compiled for that family.
    pub fn visit<V: FamilyVisitor>(self, v: V) -> V::Output {
        match self {
            FamilyKind::Gaussian => v.visit(Gaussian),
            FamilyKind::Poisson => v.visit(Poisson),
            FamilyKind::Binomial => v.visit(Binomial),
            FamilyKind::GaussianLink(link) => v.visit(GaussianLink::new(link, 1.0)),
            FamilyKind::PoissonLink(link) => v.visit(PoissonLink { link }),
            FamilyKind::BinomialLink(link) => v.visit(BinomialLink { link }),
            FamilyKind::NegBinomial(link) => v.visit(NegBinomial::new(link, 1.0)),
            FamilyKind::Gamma(link) => v.visit(GammaFam::new(link, 1.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;
    impl FamilyVisitor for Name {
        type Output = (&'static str, Option<&'static str>);
        fn visit<F: Family + Copy>(self, fam: F) -> Self::Output {
            (fam.name(), fam.extra_name())
        }
    }

    #[test]
    fn families_and_links_are_known_by_their_names_only_here() {
        let e = FamilyKind::from_names("gamma", "log").unwrap_err();
        assert!(e.to_string().contains("'gamma' is not supported: use gaussian, poisson, binomial, neg_binomial_2, Gamma"), "{e}");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidModel);
        let e = FamilyKind::from_names("poisson", "logit").unwrap_err();
        assert!(e.to_string().contains("the poisson family has no link 'logit': use log, identity, sqrt"), "{e}");
        assert!(FamilyKind::from_names("Gamma", "sqrt").is_err() && FamilyKind::from_names("binomial", "identity").is_err());
        let cases = [
            ("gaussian", "", FamilyKind::Gaussian, Some("sigma")),
            ("gaussian", "identity", FamilyKind::Gaussian, Some("sigma")),
            ("gaussian", "log", FamilyKind::GaussianLink(Link::Log), Some("sigma")),
            ("gaussian", "inverse", FamilyKind::GaussianLink(Link::Inverse), Some("sigma")),
            ("poisson", "", FamilyKind::Poisson, None),
            ("poisson", "sqrt", FamilyKind::PoissonLink(Link::Sqrt), None),
            ("poisson", "identity", FamilyKind::PoissonLink(Link::Identity), None),
            ("binomial", "logit", FamilyKind::Binomial, None),
            ("binomial", "probit", FamilyKind::BinomialLink(Link::Probit), None),
            ("binomial", "cloglog", FamilyKind::BinomialLink(Link::Cloglog), None),
            ("binomial", "cauchit", FamilyKind::BinomialLink(Link::Cauchit), None),
            ("binomial", "log", FamilyKind::BinomialLink(Link::Log), None),
            ("neg_binomial_2", "", FamilyKind::NegBinomial(Link::Log), Some("reciprocal_dispersion")),
            ("neg_binomial_2", "sqrt", FamilyKind::NegBinomial(Link::Sqrt), Some("reciprocal_dispersion")),
            ("neg_binomial_2", "identity", FamilyKind::NegBinomial(Link::Identity), Some("reciprocal_dispersion")),
            ("Gamma", "", FamilyKind::Gamma(Link::Inverse), Some("shape")),
            ("Gamma", "log", FamilyKind::Gamma(Link::Log), Some("shape")),
            ("Gamma", "identity", FamilyKind::Gamma(Link::Identity), Some("shape")),
        ];
        for (name, link, kind, extra) in cases {
            let k = FamilyKind::from_names(name, link).unwrap();
            assert_eq!(k, kind, "{name} {link}");
            assert_eq!(k.visit(Name), (name, extra));
            let f = k.family();
            assert_eq!((f.name(), f.extra_name(), k.extra_name()), (name, extra, extra));
            if !link.is_empty() {
                assert_eq!(k.link().name(), link);
            }
        }
        assert!(FamilyKind::Gaussian.family().all_gibbs() && !FamilyKind::GaussianLink(Link::Log).family().all_gibbs());
        assert!(FamilyKind::BinomialLink(Link::Probit).family().uses_trials() && !FamilyKind::NegBinomial(Link::Log).family().uses_trials());
    }
}
