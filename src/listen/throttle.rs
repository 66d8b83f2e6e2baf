//! The PIN guess throttle every front with a PIN uses (the Kazakh operators' PINs, the Belarusian СКО's), and
//! the terminals it knows.
//!
//! **A client** is what a terminal carries unchanged on every request: its address, the OS user owning its
//! socket when it connects from this machine (Linux; [`Peer::uid`]), and its `User-Agent` (none over framed
//! TCP). On 127.0.0.1 every local process shares the till's address; the user and the app's name tell them
//! apart. The client is kept only as a SHA-256 of those.
//!
//! **Counting.** A guess is counted before it is checked: [`Throttle::admit`] hands out a [`Ticket`] that
//! counts as a wrong PIN until it is settled, and holds further checks back while the tickets out could
//! reach a limit. So concurrent guesses get exactly as many checks as the limits below allow.
//! - per client: after `max_failures` wrong PINs the client is locked out for `lockout_ms`, doubled by every
//!   further wrong PIN (up to `max_lockout_ms`); wrong PINs are forgotten after `forget_after_ms` without one.
//!   A right PIN resets nothing, so knowing one cashier's PIN buys no guesses.
//! - for the whole server: `global_failures_per_minute` wrong PINs in a minute, from any mix of clients, start
//!   a pause of 1 min, doubled at each further exhaustion (up to `max_lockout_ms`) until `forget_after_ms`
//!   pass without a wrong PIN. During a pause, PINs of clients Kassa does not know are not checked at all.
//!
//! **Known terminals.** A client becomes known *with a PIN* when it presents that PIN rightly; the pair
//! (client, keyed hash of the PIN) is stored (`known_terminals`, so it survives a restart), at most
//! [`TERMINALS_PER_PIN`] clients per PIN, the oldest forgotten first. During a server pause a known client's
//! request is still answered, but only a PIN it is known with is checked: anything else, a right PIN of
//! another operator included, is refused exactly as for an unknown client and counts as a wrong guess. So a
//! cashier at the till keeps working while a process beside it guesses; a process that pretends to be the
//! till (same user and app name) gets no check of any other PIN, and its wrong guesses lock that client like
//! any other; and an insider who warms up clients with their own PIN gains no guesses at anyone else's.
use super::peer::Peer;
use crate::config::AuthConfig;
use crate::store::Store;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Clients remembered per PIN; the oldest is forgotten first.
pub const TERMINALS_PER_PIN: usize = 16;
/// The first server-wide pause.
const FIRST_PAUSE: Duration = Duration::from_secs(60);
/// A check waits at most this long for others to settle before it is refused.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// A terminal as the throttle tells it apart (see the module).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Client(String);

impl Client {
    /// The client of a connection, with the request's `User-Agent`.
    pub fn of(peer: &Peer, agent: Option<&str>) -> Client {
        Client::new(peer.remote.ip(), peer.uid(), agent)
    }

    pub fn new(ip: IpAddr, uid: Option<u32>, agent: Option<&str>) -> Client {
        let uid = uid.map(|u| u.to_string()).unwrap_or_default();
        let text = format!("{}\n{uid}\n{}", ip.to_canonical(), agent.unwrap_or("").trim());
        Client(hex::encode(Sha256::digest(text.as_bytes())))
    }
}

/// Why a PIN was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This client made too many wrong guesses.
    Client(Duration),
    /// The whole server is pausing PIN checks for clients it does not know.
    Server(Duration),
    /// Too many checks are under way; none settled in time.
    Busy,
}

impl Refusal {
    /// Seconds to wait, rounded up (at least 1).
    pub fn seconds(&self) -> u64 {
        match self {
            Refusal::Client(d) | Refusal::Server(d) => d.as_secs() + 1,
            Refusal::Busy => 1,
        }
    }
}

#[derive(Default)]
struct Bucket {
    failures: u32,
    /// Tickets out: guesses counted and not settled yet.
    pending: u32,
    last_failure: Option<Instant>,
    locked_until: Option<Instant>,
}

#[derive(Default)]
struct Server {
    last_failure: Option<Instant>,
    window_start: Option<Instant>,
    window_failures: u32,
    pending: u32,
    pauses: u32,
    paused_until: Option<Instant>,
}

#[derive(Default)]
struct State {
    clients: HashMap<Client, Bucket>,
    server: Server,
    /// Known clients and the keyed hashes of the PINs each is known with.
    known: HashMap<Client, HashSet<String>>,
    /// When forgotten clients were last dropped.
    tidied: Option<Instant>,
}

/// Which checks a ticket allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Any PIN.
    Open,
    /// Only a PIN the client is known with (during a server pause).
    Known,
}

enum Step {
    Admit(Lane),
    Wait,
    Refuse(Refusal),
}

/// Wrong PINs per client and for the whole server, and the known terminals, of one front.
pub struct Throttle {
    /// The front (`kz`, `by`): its rows of `known_terminals`, and part of each PIN's keyed hash.
    front: &'static str,
    config: AuthConfig,
    key: [u8; 32],
    store: Option<Arc<Store>>,
    state: Mutex<State>,
    settled: Notify,
}

fn doubled(base: Duration, times: u32, cap: Duration) -> Duration {
    base.saturating_mul(1u32.checked_shl(times.min(31)).unwrap_or(u32::MAX)).min(cap)
}

impl Throttle {
    /// The throttle of `front`, with the terminals the store knows for it. `key` keys the stored hashes of
    /// PINs (a secret kept outside the database); without a store nothing outlives the process.
    pub fn new(front: &'static str, config: &AuthConfig, key: [u8; 32], store: Option<Arc<Store>>) -> Throttle {
        let mut config = config.clone();
        config.max_failures = config.max_failures.max(1);
        config.global_failures_per_minute = config.global_failures_per_minute.max(1);
        let mut state = State::default();
        if let Some(store) = &store {
            match store.read(|tx| tx.known_terminals(front)) {
                Ok(rows) => {
                    for (client, tag) in rows {
                        state.known.entry(Client(client)).or_default().insert(tag);
                    }
                }
                // Known terminals only spare cashiers a pause: without them Kassa still guards every PIN.
                Err(e) => tracing::error!(error = %e, front, "cannot read the known terminals; none is known"),
            }
        }
        Throttle { front, config, key, store, state: Mutex::new(state), settled: Notify::new() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The keyed hash of a PIN, as known terminals are stored with it.
    fn tag(&self, pin: &str) -> String {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            // HMAC takes a key of any length; this branch cannot run.
            Err(_) => return String::new(),
        };
        mac.update(self.front.as_bytes());
        mac.update(b"\n");
        mac.update(pin.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A ticket to check one PIN from `client`, counted as a wrong guess until it is settled; waits while
    /// the tickets out could reach a limit, and refuses when a limit is reached.
    pub async fn admit(&self, client: &Client) -> Result<Ticket<'_>, Refusal> {
        let deadline = tokio::time::Instant::now() + LONGEST_WAIT;
        loop {
            let settled = self.settled.notified();
            let mut settled = std::pin::pin!(settled);
            settled.as_mut().enable();
            match self.step(client, Instant::now()) {
                Step::Admit(lane) => {
                    return Ok(Ticket { throttle: self, client: client.clone(), lane, settled: false });
                }
                Step::Refuse(refusal) => return Err(refusal),
                Step::Wait => {
                    if tokio::time::timeout_at(deadline, settled).await.is_err() {
                        return Err(Refusal::Busy);
                    }
                }
            }
        }
    }

    fn step(&self, client: &Client, now: Instant) -> Step {
        let config = &self.config;
        let forget = Duration::from_millis(config.forget_after_ms);
        let mut guard = self.state();
        let state = &mut *guard;
        // Forgetting clients costs a pass over them: once a second is soon enough.
        if state.tidied.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1)) {
            state.tidied = Some(now);
            state.clients.retain(|_, b| {
                b.pending > 0
                    || b.locked_until.is_some_and(|t| t > now)
                    || b.last_failure.is_some_and(|t| now.saturating_duration_since(t) < forget)
            });
        }
        let server = &mut state.server;
        if server.pending == 0 && server.last_failure.is_some_and(|t| now.saturating_duration_since(t) >= forget) {
            *server = Server::default();
        }
        if let Some(left) = state.clients.get(client).and_then(|b| b.locked_until?.checked_duration_since(now)) {
            return Step::Refuse(Refusal::Client(left));
        }
        let lane = match state.server.paused_until.and_then(|t| t.checked_duration_since(now)) {
            Some(left) if !state.known.contains_key(client) => return Step::Refuse(Refusal::Server(left)),
            Some(_) => Lane::Known,
            None => Lane::Open,
        };
        let bucket = state.clients.entry(client.clone()).or_default();
        if bucket.pending > 0 && bucket.failures + bucket.pending >= config.max_failures {
            return Step::Wait;
        }
        let server = &mut state.server;
        if lane == Lane::Open
            && server.pending > 0
            && server.window_failures + server.pending >= config.global_failures_per_minute
        {
            return Step::Wait;
        }
        bucket.pending += 1;
        if lane == Lane::Open {
            server.pending += 1;
        }
        Step::Admit(lane)
    }

    /// How long the server-wide pause of PIN checks lasts still, if one is on.
    pub fn pause_left(&self) -> Option<Duration> {
        self.state().server.paused_until.and_then(|t| t.checked_duration_since(Instant::now()))
    }

    /// Settles a ticket: a right or a wrong PIN.
    fn settle(&self, client: &Client, lane: Lane, wrong: bool) {
        let config = &self.config;
        let cap = Duration::from_millis(config.max_lockout_ms);
        let now = Instant::now();
        {
            let mut guard = self.state();
            let state = &mut *guard;
            let bucket = state.clients.entry(client.clone()).or_default();
            bucket.pending = bucket.pending.saturating_sub(1);
            if lane == Lane::Open {
                state.server.pending = state.server.pending.saturating_sub(1);
            }
            if wrong {
                bucket.failures += 1;
                bucket.last_failure = Some(now);
                if bucket.failures >= config.max_failures {
                    let lockout =
                        doubled(Duration::from_millis(config.lockout_ms), bucket.failures - config.max_failures, cap);
                    bucket.locked_until = Some(now + lockout);
                    tracing::warn!(
                        front = self.front,
                        failures = bucket.failures,
                        secs = lockout.as_secs(),
                        "wrong PINs: address locked out (this address, OS user and app)"
                    );
                }
                let server = &mut state.server;
                server.last_failure = Some(now);
                if server.window_start.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(60)) {
                    server.window_start = Some(now);
                    server.window_failures = 0;
                }
                server.window_failures += 1;
                if server.window_failures >= config.global_failures_per_minute {
                    let pause = doubled(FIRST_PAUSE, server.pauses, cap);
                    server.pauses += 1;
                    let until = now + pause;
                    server.paused_until = Some(server.paused_until.map_or(until, |t| t.max(until)));
                    // The next minute's budget starts when the pause ends.
                    server.window_start = server.paused_until;
                    server.window_failures = 0;
                    tracing::warn!(
                        front = self.front,
                        secs = pause.as_secs(),
                        "wrong PINs from many clients: server-wide pause of PIN checks for unknown terminals"
                    );
                }
            }
        }
        self.settled.notify_waiters();
    }

    /// Remembers that `client` presented `tag` rightly (in memory, and in the store when it is new).
    async fn know(&self, client: &Client, tag: String) {
        let new = self.state().known.entry(client.clone()).or_default().insert(tag.clone());
        let Some(store) = self.store.clone().filter(|_| new) else { return };
        let (front, terminal) = (self.front, client.0.clone());
        let at = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
        let tag_again = tag.clone();
        let stored = tokio::task::spawn_blocking(move || {
            store.write(|tx| tx.remember_terminal(front, &terminal, &tag_again, &at, TERMINALS_PER_PIN))
        })
        .await;
        match stored {
            Ok(Ok(forgotten)) => {
                let mut state = self.state();
                for terminal in forgotten {
                    let key = Client(terminal);
                    if let Some(tags) = state.known.get_mut(&key) {
                        tags.remove(&tag);
                        if tags.is_empty() {
                            state.known.remove(&key);
                        }
                    }
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot store a known terminal"),
            Err(e) => tracing::error!(error = %e, "storing a known terminal failed"),
        }
    }
}

/// Leave to check one PIN; counts as a wrong guess until settled ([`Ticket::succeeded`],
/// [`Ticket::failed`]); dropped unsettled, it counts as wrong.
pub struct Ticket<'a> {
    throttle: &'a Throttle,
    client: Client,
    lane: Lane,
    settled: bool,
}

impl Ticket<'_> {
    /// Whether `pin` may be checked at all: always, except during a server pause, when only a PIN this
    /// client is known with may.
    pub fn allows(&self, pin: &str) -> bool {
        match self.lane {
            Lane::Open => true,
            Lane::Known => {
                let tag = self.throttle.tag(pin);
                self.throttle.state().known.get(&self.client).is_some_and(|tags| tags.contains(&tag))
            }
        }
    }

    /// The PIN was right: nothing is counted, and the client is known with it from now on.
    pub async fn succeeded(mut self, pin: &str) {
        self.settled = true;
        self.throttle.settle(&self.client, self.lane, false);
        self.throttle.know(&self.client, self.throttle.tag(pin)).await;
    }

    /// No PIN was checked after all (none was given, or the check itself failed): nothing is counted.
    pub fn withdraw(mut self) {
        self.settled = true;
        self.throttle.settle(&self.client, self.lane, false);
    }

    /// The PIN was wrong (or not allowed).
    pub fn failed(mut self) {
        self.settled = true;
        self.throttle.settle(&self.client, self.lane, true);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(&self.client, self.lane, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn client(last: u8, agent: &str) -> Client {
        Client::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), Some(1000), Some(agent))
    }

    fn throttle(config: AuthConfig) -> Throttle {
        Throttle::new("kz", &config, [7; 32], None)
    }

    #[tokio::test]
    async fn concurrent_guesses_wait_and_no_more_than_the_limit_are_checked() {
        let t = throttle(AuthConfig { max_failures: 3, global_failures_per_minute: 100, ..AuthConfig::default() });
        let c = client(1, "curl");
        let tickets: Vec<Ticket> =
            futures::future::join_all((0..3).map(|_| t.admit(&c))).await.into_iter().map(|r| r.unwrap()).collect();
        // A fourth waits for the three out; they fail, so it is refused: locked out.
        let fourth = t.admit(&c);
        let mut fourth = std::pin::pin!(fourth);
        assert!(futures::poll!(fourth.as_mut()).is_pending(), "the fourth waits");
        for ticket in tickets {
            ticket.failed();
        }
        assert!(matches!(fourth.await, Err(Refusal::Client(_))));
        // Right PINs settle and let the next in.
        let other = client(2, "curl");
        let first = t.admit(&other).await.unwrap();
        first.succeeded("1234").await;
        assert!(t.admit(&other).await.is_ok());
    }

    #[tokio::test]
    async fn a_known_terminal_gets_its_own_pin_checked_during_a_pause_and_nothing_else() {
        let t = throttle(AuthConfig { global_failures_per_minute: 3, ..AuthConfig::default() });
        let till = client(1, "KassaPOS");
        t.admit(&till).await.unwrap().succeeded("4821").await;
        // Three wrong guesses from three clients pause the server.
        for n in 0..3 {
            t.admit(&client(1, &format!("guesser {n}"))).await.unwrap().failed();
        }
        assert!(matches!(t.admit(&client(1, "guesser 9")).await.err(), Some(Refusal::Server(_))));
        let ticket = t.admit(&till).await.expect("the known terminal is let in");
        assert!(ticket.allows("4821"));
        assert!(!ticket.allows("0000"), "another PIN is not checked for it");
        ticket.succeeded("4821").await;
        // A mistake from it counts like any other.
        let ticket = t.admit(&till).await.unwrap();
        assert!(!ticket.allows("1111"));
        ticket.failed();
    }

    #[tokio::test]
    async fn lockouts_double_and_a_right_pin_resets_nothing() {
        let t = throttle(AuthConfig {
            max_failures: 2,
            lockout_ms: 60_000,
            global_failures_per_minute: 100,
            ..AuthConfig::default()
        });
        let c = client(9, "");
        t.admit(&c).await.unwrap().failed();
        t.admit(&c).await.unwrap().succeeded("1234").await;
        t.admit(&c).await.unwrap().failed();
        let Err(Refusal::Client(left)) = t.admit(&c).await else { panic!("locked out") };
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
        assert!(t.admit(&client(9, "another app")).await.is_ok(), "another client is not locked out");
    }
}
