//! A fixed pool of threads for password hashing. Argon2id takes tens of milliseconds of CPU and
//! 19 MiB of memory per hash; running it on the async workers would stall other requests, and
//! on tokio's growing blocking pool every thread would keep its own 19 MiB buffer. One thread
//! per core bounds both the CPU share and the memory.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

pub struct HashingPool {
    jobs: Mutex<Sender<Job>>,
}

impl HashingPool {
    pub fn new(threads: usize) -> HashingPool {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("password-hash-{i}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        HashingPool { jobs: Mutex::new(tx) }
    }

    /// Runs `f` on a hashing thread and waits for its result.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A caller that stopped waiting needs no answer.
            let _ = tx.send(f());
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        rx.await.ok()
    }
}
