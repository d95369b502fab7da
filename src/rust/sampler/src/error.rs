//! The sampler's errors: one type, whose message is what the user reads and whose
//! [`ErrorKind`] is what a caller tests (the R glue turns it into an R class).

use std::fmt;

/// Why a model could not be set up or a run did not finish.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The model, its starting values or the run's settings are invalid; the message says how.
    InvalidModel(String),
    /// The chain reached a non-finite linear predictor or extra parameter.
    NonFinite,
    /// A covariance draw was numerically singular.
    SingularCovariance,
    /// The caller's poll asked to stop (the user pressed Ctrl-C).
    Interrupted,
    /// A chain was stopped because the run stopped (another chain failed, or an interrupt).
    Stopped,
    /// A chain panicked.
    Panicked,
    /// A chain returned nothing.
    NotFinished,
    /// Worker threads could not be started.
    Threads(String),
    /// A promise between the sampler and its caller was broken (e.g. buffer shapes).
    Internal(String),
}

/// What kind of failure an [`Error`] is, for callers that act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fix the model or the settings.
    InvalidModel,
    /// The numbers went wrong: check data scales and priors.
    Numerical,
    /// The user stopped the run.
    Interrupted,
    /// A bug or a failure of the system.
    Internal,
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidModel(_) => ErrorKind::InvalidModel,
            Error::NonFinite | Error::SingularCovariance => ErrorKind::Numerical,
            Error::Interrupted | Error::Stopped => ErrorKind::Interrupted,
            Error::Panicked | Error::NotFinished | Error::Threads(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An [`Error::InvalidModel`] with `msg`.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidModel(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidModel(msg) => f.write_str(msg),
            Error::NonFinite => f.write_str("the sampler reached a non-finite state; check the data and prior scales"),
            Error::SingularCovariance => {
                f.write_str("the covariance draw was numerically singular; check the scale of the predictors and the prior")
            }
            Error::Interrupted => f.write_str("sampling was interrupted by the user"),
            Error::Stopped => f.write_str("sampling was interrupted"),
            Error::Panicked => f.write_str("internal error in the sampler (please report it)"),
            Error::NotFinished => f.write_str("a chain did not finish"),
            Error::Threads(e) => write!(f, "could not start threads: {e}"),
            Error::Internal(msg) => write!(f, "internal: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_kinds() {
        assert_eq!(Error::invalid("the data have no rows").to_string(), "the data have no rows");
        assert_eq!(Error::Internal("too many draws".into()).to_string(), "internal: too many draws");
        assert!(Error::Interrupted.to_string().contains("interrupted"));
        assert!(Error::Stopped.to_string().contains("interrupted"));
        assert!(Error::NonFinite.to_string().starts_with("the sampler reached a non-finite state"));
        let kinds = [Error::NonFinite, Error::SingularCovariance, Error::Stopped, Error::Panicked].map(|e| e.kind());
        assert_eq!(kinds, [ErrorKind::Numerical, ErrorKind::Numerical, ErrorKind::Interrupted, ErrorKind::Internal]);
    }
}
