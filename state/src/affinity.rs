//! Pinning the benchmark's worker threads to distinct cores.
//!
//! On a shared machine the scheduler tends to wake a rayon worker on the core of the worker
//! that woke it when the other cores are busy, so that a pool of two threads often runs on
//! one core. The benchmark pins the workers of its measurement pools (the one-thread pool
//! and the T-thread pool alike) so that the thread count it reports is the one that ran.

use rayon::{ThreadPool, ThreadPoolBuildError, ThreadPoolBuilder};

/// A rayon pool of `threads` threads (at least one), worker `i` pinned to the `i`-th core
/// this process may use (modulo their number); a worker that cannot be pinned runs unpinned.
pub(crate) fn pinned_pool(threads: usize) -> Result<ThreadPool, ThreadPoolBuildError> {
    let cores = allowed_cores();
    ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("altius-state-pinned-{i}"))
        .start_handler(move |i| {
            let pinned = !cores.is_empty() && pin_current_thread(cores[i % cores.len()]);
            if !pinned {
                tracing::warn!(target: "altius::state", worker = i, "could not pin a worker");
            }
        })
        .build()
}

/// The cores this process may run on, in order (empty where unknown).
pub(crate) fn allowed_cores() -> Vec<usize> {
    imp::allowed_cores()
}

/// Pins the calling thread to `core`; false if that is not possible here.
pub(crate) fn pin_current_thread(core: usize) -> bool {
    imp::pin(core)
}

#[cfg(target_os = "linux")]
mod imp {
    pub(super) fn allowed_cores() -> Vec<usize> {
        // SAFETY: `set` is a plain bit set that `sched_getaffinity` fills; its size is passed.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Vec::new();
            }
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
                .collect()
        }
    }

    pub(super) fn pin(core: usize) -> bool {
        if core >= libc::CPU_SETSIZE as usize {
            return false;
        }
        // SAFETY: as above; pid 0 is the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(core, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub(super) fn allowed_cores() -> Vec<usize> {
        Vec::new()
    }

    pub(super) fn pin(_core: usize) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_a_thread_to_an_allowed_core() {
        let cores = allowed_cores();
        if cfg!(target_os = "linux") {
            assert!(!cores.is_empty());
        }
        if let Some(&last) = cores.last() {
            let pinned = std::thread::spawn(move || {
                let ok = pin_current_thread(last);
                (ok, allowed_cores())
            })
            .join()
            .unwrap();
            assert_eq!(pinned, (true, vec![last]));
        }
    }
}
