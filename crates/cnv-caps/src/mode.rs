//! Who watches a call: the run-time mode that sessions, the gate and the audit trail
//! share.

vocabulary! {
    /// Who watches a session, as a run-time value: the twin of the type-level modes
    /// `Autonomous` and `Supervised` of `cnv-typestate`, for code (a command line, an
    /// audit entry) that learns the mode at run time.
    ///
    /// ```
    /// use cnv_caps::RunMode;
    ///
    /// assert_eq!("autonomous".parse(), Ok(RunMode::Autonomous));
    /// assert_eq!(RunMode::Supervised.to_string(), "Supervised");
    /// ```
    pub enum RunMode, kind = "run mode" {
        /// No human reads each step (an agent drives the session). `Dangerous` is never
        /// reachable.
        Autonomous,
        /// A human supervises the session. `Dangerous` is reachable with a human's
        /// approval.
        Supervised,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn run_mode_parses_and_prints() {
        assert_eq!("autonomous".parse(), Ok(RunMode::Autonomous));
        assert_eq!("Supervised".parse(), Ok(RunMode::Supervised));
        let err = "agent".parse::<RunMode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown run mode `agent`; expected one of: Autonomous, Supervised"
        );
        assert_eq!(RunMode::Supervised.to_string(), "Supervised");
    }
}
