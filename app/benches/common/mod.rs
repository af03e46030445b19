//! Shared by the bench binaries.

use std::time::Duration;

/// The `p` quantile (0..=1) of the samples, nearest-rank; sorts them.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p).ceil() as usize).saturating_sub(1)]
}
