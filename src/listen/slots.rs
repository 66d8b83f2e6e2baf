//! The connections a listener holds, and which one makes room when it holds its cap: the oldest that is not
//! running a request (idle, or still sending its head, body or frame). A flood of slow or silent clients
//! thus pushes out itself, not the POS that is selling; only when every connection runs a request is a new
//! one refused. The HTTP and the framed listener share this table and [`accept`], so every front sheds load
//! the same way.
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

/// One open connection.
pub struct Slot {
    id: u64,
    /// A request is running with its head and body read: the connection is not to be evicted.
    busy: AtomicBool,
    /// Answers the router made whose head hyper has not written yet (to tell them from hyper's own).
    pub(crate) heads: AtomicUsize,
    /// Notified when this connection is chosen to make room.
    pub(crate) kill: Notify,
}

impl Slot {
    /// The request's body is in: from now on the connection does work and is kept.
    pub fn body_read(&self) {
        self.set_busy(true);
    }

    pub(crate) fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }
}

/// The open connections of one listener, oldest first.
#[derive(Default)]
pub struct Slots {
    open: Mutex<BTreeMap<u64, Arc<Slot>>>,
    next: AtomicU64,
}

impl Slots {
    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection, evicting the oldest idle or slow one at the cap; `None` when every
    /// open connection runs a request.
    pub fn admit(&self, max: usize) -> Option<Arc<Slot>> {
        let mut open = self.table();
        if open.len() >= max.max(1) {
            let victim = open.values().find(|s| !s.busy.load(Ordering::SeqCst)).map(|s| s.id)?;
            if let Some(slot) = open.remove(&victim) {
                slot.kill.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let slot = Arc::new(Slot { id, busy: AtomicBool::new(false), heads: AtomicUsize::new(0), kill: Notify::new() });
        open.insert(id, slot.clone());
        Some(slot)
    }

    pub fn remove(&self, slot: &Slot) {
        self.table().remove(&slot.id);
    }

    pub fn count(&self) -> usize {
        self.table().len()
    }
}

/// What [`accept`] hands each connection: its stream, the client's address, its slot, and a signal that
/// turns true when the listener stops (finish the request in hand, then close).
pub struct Accepted {
    pub stream: TcpStream,
    pub remote: SocketAddr,
    pub slot: Arc<Slot>,
    pub stop: watch::Receiver<bool>,
}

/// Accepts connections on `listener` until `shutdown`, at most `max` open at once (making room as the
/// module says), and runs `serve` for each on its own task. After `shutdown`, waits up to 30 s for the
/// connections to finish their requests.
pub async fn accept<F>(
    listener: TcpListener,
    max: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
    serve: impl Fn(Accepted) -> F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Slots::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: wait a little, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = slots.admit(max) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(refused, max, "connection cap reached: connection refused");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let served = serve(Accepted { stream, remote, slot: slot.clone(), stop: stop_rx.clone() });
        let slots = slots.clone();
        tokio::spawn(async move {
            served.await;
            slots.remove(&slot);
        });
    }
    let _ = stop_tx.send(true);
    // Requests in flight finish; idle connections close at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while slots.count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let slots = Slots::default();
        let a = slots.admit(2).unwrap();
        let b = slots.admit(2).unwrap();
        a.body_read();
        let c = slots.admit(2).expect("b was idle");
        assert_eq!(slots.count(), 2);
        assert!(slots.table().contains_key(&a.id) && slots.table().contains_key(&c.id), "b made room");
        c.body_read();
        assert!(slots.admit(2).is_none(), "every connection runs a request");
        drop(b);
    }
}
