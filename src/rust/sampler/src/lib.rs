//! Metropolis-within-Gibbs sampler for Bayesian generalized linear mixed models.
//!
//! Pure Rust, no R: the R package's glue crate converts R objects to a [`ModelSpec`]
//! ([`spec`]), lays it out as a [`Model`] ([`model`]) and calls [`run_chains`] ([`run`]),
//! which runs each [`chain`] on a worker thread and writes the draws, in the order of the
//! model's [`layout`], into an R array through a [`DrawBuffer`] ([`draws`]). A chain sweeps
//! the full conditionals of [`steps`] over its [`params`] and [`rows`]; the [`family`] is
//! the only place that knows a response distribution. Failures are [`Error`]s ([`error`]).

pub mod chain;
pub mod dist;
pub mod draws;
pub mod error;
pub mod family;
pub mod layout;
pub mod linalg;
pub mod links;
pub mod model;
pub mod params;
pub mod rows;
pub mod run;
pub mod spec;
pub mod special;
pub mod steps;
pub mod vmath;

pub use chain::{geweke, run_chain, ChainConfig, ChainEnv, ChainInit, ChainOutput};
pub use draws::{ChainDraws, DrawBuffer, Draws};
pub use error::{Error, ErrorKind};
pub use family::{Family, FamilyKind};
pub use layout::{Layout, LayoutVisitor, Param};
pub use model::Model;
pub use run::{run_chains, run_chains_vec};
pub use spec::{CovPrior, ModelSpec, TermSpec};
