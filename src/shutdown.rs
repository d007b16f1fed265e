//! Shutdown signals: SIGTERM (Kubernetes) and SIGINT (Ctrl-C).
//!
//! Owns: turning either signal into one future that resolves once, and the stop flag every
//! background task waits on.

use tracing::warn;

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed when this is called,
/// not when the future is first polled: call it before serving, or a signal that arrives in
/// between takes the default action and kills the process without a drain.
pub fn signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                warn!(error = %e, "cannot install signal handlers; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone): the shutdown path of every
/// background task.
pub async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}
