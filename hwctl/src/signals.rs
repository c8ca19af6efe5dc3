//! The signals that stop a long-running command (`fleet`, `sim`).

/// Ctrl-C (SIGINT) and SIGTERM, listened for from [`StopSignals::listen`] on: a
/// signal that comes after it and before [`StopSignals::wait`] is not lost (a
/// supervisor that sends SIGTERM as soon as `hwctl sim` printed its first line
/// gets a clean stop, not the default action's kill).
pub(crate) struct StopSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    /// Starts listening now. A signal that cannot be listened for is never
    /// waited for (the command then runs to its end, or serves until killed),
    /// rather than taken for one that came.
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            StopSignals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    /// Waits for Ctrl-C or SIGTERM: `true` for SIGTERM.
    #[cfg_attr(not(unix), allow(unused_mut))]
    pub(crate) async fn wait(mut self) -> bool {
        #[cfg(unix)]
        {
            let interrupt = async {
                match self.interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminate = async {
                match self.terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupt => false,
                () = terminate => true,
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            false
        }
    }
}
