//! The health check every command makes before it touches a server: [`wait_for`] retries
//! `Target::health_check` with bounded exponential backoff for up to `--wait`, logs
//! `<prefix>.started` / `.waiting` / `.failed`, and turns a server that never answered into the
//! run's error.

use std::time::{Duration, Instant};

use crate::outcome::{Applied, RunError};
use crate::targets::versioned::elapsed_ms;
use crate::targets::{error_chain, Target, TargetName};

/// The first pause between two health checks; it doubles up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest pause between two health checks.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);
/// Even with `--wait 0s` a health check gets this long, so one real attempt is made.
const MIN_ATTEMPT_TIME: Duration = Duration::from_secs(1);

pub(crate) fn log_started(name: TargetName, address: &str) {
    tracing::info!(
        event = format!("{}.started", name.event_prefix()),
        target = name.as_str(),
        address,
        "{name}: starting against {address}"
    );
}

/// [`wait_until_healthy`], turned into the run's error when the server never answered.
pub(crate) async fn wait_for<T: Target>(
    target: &mut T,
    address: &str,
    wait: Duration,
    started: Instant,
    applied: &Applied,
) -> Result<(), RunError> {
    let name = target.name();
    wait_until_healthy(target, address, wait).await.map_err(|unreachable| {
        log_failure(name, started, &unreachable.last_error, 0);
        if unreachable.permanent {
            return RunError::Refused { target: name, error: unreachable.last_error, applied: applied.clone() };
        }
        RunError::Unreachable {
            target: name,
            address: address.to_owned(),
            waited: crate::targets::human_duration(wait),
            attempts: unreachable.attempts,
            last_error: unreachable.last_error,
            applied: applied.clone(),
        }
    })
}

pub(crate) fn log_failure(name: TargetName, started: Instant, error: &str, done: usize) {
    tracing::error!(
        event = format!("{}.failed", name.event_prefix()),
        target = name.as_str(),
        error = error,
        changes = done as u64,
        duration_ms = elapsed_ms(started),
        "{name} failed: {error}"
    );
}

/// A health check that never passed within `--wait`, or failed for good at once.
#[derive(Debug)]
struct Unreachable {
    attempts: u32,
    last_error: String,
    /// `Target::is_permanent`: stopped without waiting.
    permanent: bool,
}

/// Calls `health_check` until it passes, pausing 100 ms, 200 ms, 400 ms… (at most 2 s) between
/// attempts, for at most `wait`; a server still starting (a fresh container) is waited for.
async fn wait_until_healthy<T: Target>(target: &mut T, address: &str, wait: Duration) -> Result<(), Unreachable> {
    let name = target.name();
    let deadline = Instant::now() + wait;
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempts = 0;
    // The server's own words from an earlier attempt: a last attempt cut short by the deadline
    // must not hide them behind a bare "no answer".
    let mut last_cause: Option<String> = None;
    loop {
        attempts += 1;
        let attempt_time = deadline.saturating_duration_since(Instant::now()).max(MIN_ATTEMPT_TIME);
        let last_error = match tokio::time::timeout(attempt_time, target.health_check()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) if T::is_permanent(&error) => {
                return Err(Unreachable { attempts, last_error: error_chain(&error), permanent: true })
            }
            Ok(Err(error)) => {
                let cause = error_chain(&error);
                last_cause = Some(cause.clone());
                cause
            }
            Err(_) => {
                let silent = format!("no answer within {}", crate::targets::human_duration(attempt_time));
                match &last_cause {
                    Some(cause) => format!("{silent} (the attempt before: {cause})"),
                    None => silent,
                }
            }
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Unreachable { attempts, last_error, permanent: false });
        }
        log_retry(name, address, attempts, &last_error);
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

/// The first failure is worth an info line (the server may simply be starting); the rest are
/// debug, so a minute of waiting is not a screen of retries.
fn log_retry(name: TargetName, address: &str, attempts: u32, error: &str) {
    let event = format!("{}.waiting", name.event_prefix());
    if attempts == 1 {
        tracing::info!(
            event,
            target = name.as_str(),
            address,
            attempt = attempts,
            error,
            "{name}: waiting for {address}"
        );
    } else {
        tracing::debug!(
            event,
            target = name.as_str(),
            address,
            attempt = attempts,
            error,
            "{name}: still waiting for {address}"
        );
    }
}
