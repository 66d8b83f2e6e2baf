//! Server start-up and shutdown: configuration → store → the one ledger → each configured country (the
//! Kazakh core and its router, the Belarusian and Ukrainian fronts) → listeners.
//!
//! `serve` takes a bound listener and a shutdown future, so tests start the real server on port 0 with their
//! own stop signal; `run_blocking` is what `kassa serve` calls.
use crate::config::{Config, ServeArgs};
use crate::country::kz::front::print::Printing;
use crate::country::kz::front::{self as api, AppState};
use crate::country::kz::link::Endpoints;
use crate::country::kz::ofd::emulator::{EMBEDDED_ACCEPTED_KEPT, Emulator, EmulatorConfig, EmulatorHandle};
use crate::country::kz::{Core, FiscalError};
use crate::ledger::Ledger;
use crate::ledger::clock::{Clock, SystemClock};
use crate::render::{Renderer, RendererConfig};
use crate::spool::Spooler;
use crate::spool::config::SpoolConfig;
use crate::store::folder::{self, DataFolder, Install};
use crate::store::{Store, StoreError};
use crate::tenant_states::TenantStates;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A running core and what it started beside it.
pub struct Started {
    /// The database, opened once.
    pub store: Arc<Store>,
    /// The one ledger over it: one lock map for every country's devices.
    pub ledger: Arc<Ledger>,
    pub core: Arc<Core>,
    /// The layout engine and the spooler.
    pub printing: Arc<Printing>,
    /// The built-in OFD emulator, when an OFD of the configuration uses it.
    pub emulator: Option<EmulatorHandle>,
    /// The data folder's lock, held as long as this value lives: one server per data folder.
    pub folder: Arc<DataFolder>,
    /// The configuration it was started with (the fronts read their sections of it).
    pub config: Arc<Config>,
}

impl Started {
    /// What the API handlers share; called once, it starts serving the store's other tenants beside the
    /// default one when the store keeps them apart (`api::tenants`).
    pub fn state(&self) -> AppState {
        let mut state =
            AppState::new(self.core.clone(), self.printing.clone(), self.config.clone(), self.store.clone());
        let idle = std::time::Duration::from_secs(self.config.store.tenant_idle_seconds);
        state.tenants = api::tenants::start(&state, idle);
        state
    }
}

/// Opens the data folder, starts the built-in OFD emulator when configured, builds the fiscal core over
/// its database and starts the senders of queued documents.
pub async fn start_core(config: &Config, clock: Arc<dyn Clock>) -> Result<Started, String> {
    config.validate().map_err(|e| e.to_string())?;
    let folder = Arc::new(DataFolder::lock(&config.data_dir)?);
    let (store, db) = open_store(config, &folder)?;
    let emulator = match config.ofd.iter().find(|o| o.endpoint == "emulator") {
        Some(ofd) => {
            let config = EmulatorConfig {
                consumer_url: ofd.consumer_url.clone(),
                accepted_kept: EMBEDDED_ACCEPTED_KEPT,
                ..Default::default()
            };
            let emu =
                Emulator::start(config).await.map_err(|e| format!("cannot start the built-in OFD emulator: {e}"))?;
            tracing::info!(addr = %emu.addr(), "built-in OFD emulator (demo mode) serving");
            Some(emu)
        }
        None => None,
    };
    if config.ofd_link.total_time_ms < 5_000 {
        tracing::warn!(ms = config.ofd_link.total_time_ms, "OFD total time below the protocol's 5 s minimum");
    }
    warn_unreachable_ofds(config);
    let endpoints = Endpoints { emulator: emulator.as_ref().map(|e| e.addr()) };
    let hashed_pins = store.read(|tx| tx.hashed_pins()).map_err(|e| format!("cannot read {db}: {e}"))?;
    let pin_key = match shared_pin_key()? {
        Some(key) => key,
        None => folder.pin_key(hashed_pins == 0)?,
    };
    let ledger = Arc::new(Ledger::new(store.clone()));
    let core = Core::new(store.clone(), ledger.clone(), config.kz_core(), clock, endpoints, pin_key);
    let core = Arc::new(core.map_err(|e| match e {
        FiscalError::PinKeyMismatch if std::env::var_os(PIN_KEY_VAR).is_some() => format!(
            "{PIN_KEY_VAR} is not the key this store's PINs were hashed with: give this node the key the other nodes \
             have (the hex of the pin.key the store's PINs began with)"
        ),
        FiscalError::PinKeyMismatch => format!("{}: {e}", config.data_dir.join(folder::PIN_KEY).display()),
        other => format!("cannot start the fiscal core: {other}"),
    })?);
    store.watch_wal_every(std::time::Duration::from_secs(1));
    core.start_senders();
    if core.is_admin_pin(crate::config::DEMO_ADMIN_PIN) {
        warn_demo_pin(
            "administrator",
            crate::config::DEMO_ADMIN_PIN,
            "change it with SaveOperator (or start a new data folder with KASSA_ADMIN_PIN)",
        );
    }
    let template_dir = config.render.template_dir.clone().unwrap_or_else(|| config.data_dir.join("templates"));
    let renderer = Renderer::new(RendererConfig { override_dir: Some(template_dir) });
    let spool_config = config.spool.clone().unwrap_or_else(|| SpoolConfig::serve_default(&config.data_dir));
    let spooler = open_spooler(&config.data_dir, spool_config)?;
    let printing = Arc::new(Printing { renderer, spooler, lang: config.render.lang.clone() });
    Ok(Started { store, ledger, core, printing, emulator, folder, config: Arc::new(config.clone()) })
}

/// The environment variable that gives the PIN key (64 hex digits) instead of the folder's `pin.key`: every node
/// of one PostgreSQL store is given the same key, so any node finds the operators' PINs.
pub const PIN_KEY_VAR: &str = "KASSA_PIN_KEY";

/// The PIN key from `KASSA_PIN_KEY`, when it is set. A key that does not match the stored PINs stops the start,
/// as a wrong `pin.key` does.
pub fn shared_pin_key() -> Result<Option<[u8; 32]>, String> {
    let Ok(text) = std::env::var(PIN_KEY_VAR) else { return Ok(None) };
    let key = hex::decode(text.trim()).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    key.map(Some).ok_or_else(|| {
        format!(
            "{PIN_KEY_VAR} is not 64 hex digits (32 bytes): give every node the same key, for example the hex of a \
             folder's pin.key (`od -An -tx1 pin.key | tr -d ' \\n'`), or a new one (`openssl rand -hex 32`) for \
             a new store"
        )
    })
}

/// Opens the store the configuration names: PostgreSQL, or `kassa.db` in the locked data folder. Returns it
/// with its name for messages.
fn open_store(config: &Config, folder: &DataFolder) -> Result<(Arc<Store>, String), String> {
    if let Some(url) = &config.store.url {
        let lease = std::time::Duration::from_secs(config.store.lease_seconds);
        folder.lock_folder_itself()?;
        let store = Store::open_postgres(url, lease).map_err(|e| format!("cannot serve from PostgreSQL: {e}"))?;
        let name = crate::store::pg::Target::parse(url)?.name;
        return Ok((Arc::new(store), name));
    }
    let install = folder.check_database()?;
    let db = config.data_dir.join(folder::DATABASE);
    let started = std::time::Instant::now();
    let store = Arc::new(Store::open(&db).map_err(|e| open_error(&db, e))?);
    // A fresh install's kassa.db exists only now: lock it as well.
    folder.lock_database()?;
    folder::make_private(&db);
    match install {
        Install::Fresh => tracing::debug!(folder = %config.data_dir.display(), "new data folder: fresh install"),
        Install::Existing => tracing::debug!(ms = started.elapsed().as_millis() as u64, "database checked and opened"),
    }
    Ok((store, db.display().to_string()))
}

/// Tries each real OFD of the configuration once, in the background, and warns about one that does not
/// answer: the KKMs using it will work autonomously, and the operator should know before the first sale.
fn warn_unreachable_ofds(config: &Config) {
    let wait = std::time::Duration::from_millis(config.ofd_link.total_time_ms.max(1));
    for ofd in config.ofd.iter().filter(|o| !o.is_emulator()) {
        let (name, endpoint) = (ofd.name.clone(), ofd.endpoint.clone());
        // With a SOCKS5 proxy configured, the proxy is what this machine must reach.
        let target = ofd.socks5.as_ref().map_or(endpoint.clone(), |p| p.addr.clone());
        tokio::spawn(async move {
            let outcome = tokio::time::timeout(wait, tokio::net::TcpStream::connect(target.as_str())).await;
            let why = match outcome {
                Ok(Ok(_)) => return,
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {} ms", wait.as_millis()),
            };
            tracing::warn!(
                ofd = %name, %endpoint, via = %target,
                "OFD unreachable at start ({why}): its KKMs work autonomously until it answers; check the network, \
                 the firewall and the endpoint in the configuration"
            );
        });
    }
}

/// What to tell the operator when `kassa.db` cannot be opened.
fn open_error(db: &std::path::Path, e: StoreError) -> String {
    match e {
        StoreError::Damaged(what) => format!(
            "{} is damaged ({what}). Kassa will not sell on a damaged fiscal database. Stop here, copy the whole \
             data folder somewhere safe, then either restore kassa.db from your last backup, or rescue what SQLite \
             can read: `sqlite3 kassa.db \".recover\" | sqlite3 kassa-recovered.db`, check it, and put it in place \
             as kassa.db (see README, \"A damaged data folder\")",
            db.display()
        ),
        StoreError::Behind { database, acknowledged } => format!(
            "{} is missing committed writes: it holds {database} commits, but this data folder acknowledged \
             {acknowledged} (kassa.mark). Sales Kassa answered for are not in it: its write-ahead log \
             (kassa.db-wal) was deleted or not copied with it, or an older kassa.db was put back. Kassa will not \
             sell on it. Stop here and copy the whole data folder somewhere safe. If you have the kassa.db-wal that \
             belongs to this kassa.db, put it back beside it; otherwise restore your latest backup with \
             `kassa restore <backup folder> --data-dir {}` (see README, \"Backups\"). Only if no copy holds the \
             missing documents and you accept that they are lost: remove kassa.mark and start again, then compare \
             the journal with the OFD's cabinet",
            db.display(),
            db.parent().map(|p| p.display().to_string()).unwrap_or_default()
        ),
        StoreError::Mark(text) => text,
        StoreError::ReadOnly => format!(
            "{} cannot be written (read-only file, folder or file system): every sale would fail. Give the user \
             running Kassa write access to the data folder and its files",
            db.display()
        ),
        other => format!("cannot open {}: {other}", db.display()),
    }
}

/// Opens the print queue. Printing never stops fiscal work: a damaged `spool.db` is set aside (renamed, logged
/// as an error) and a new, empty queue starts.
fn open_spooler(data_dir: &std::path::Path, config: SpoolConfig) -> Result<Spooler, String> {
    let queue = data_dir.join("spool.db");
    let checked = if queue.exists() { crate::store::check_file(&queue) } else { Ok(()) };
    let first = match checked {
        Ok(()) => Spooler::open(data_dir, config.clone()).map_err(|e| e.to_string()),
        Err(e) => Err(format!("integrity check: {e}")),
    };
    let spooler = match first {
        Ok(spooler) => spooler,
        Err(why) => {
            let aside = folder::set_aside(&queue).map_err(|e| {
                format!("the print queue {} is unusable ({why}) and cannot be moved aside: {e}", queue.display())
            })?;
            tracing::error!(
                queue = %queue.display(), moved_to = %aside.display(), reason = %why,
                "THE PRINT QUEUE WAS DAMAGED: set aside, a new empty queue starts; jobs in the old file are not printed"
            );
            eprintln!(
                "kassa: the print queue {} was damaged ({why}); moved to {} and a new queue started. \
                 Fiscal work goes on; reprint receipts that were waiting with PrintDocument.",
                queue.display(),
                aside.display()
            );
            Spooler::open(data_dir, config).map_err(|e| format!("cannot start the spooler: {e}"))?
        }
    };
    folder::make_private(&queue);
    Ok(spooler)
}

/// Serves the API on `listener` until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = listen_limits(&state.config);
    api::conn::serve(api::app(state), listener, limits, shutdown).await
}

/// Every front's listener limits: the connection cap and the head and body times of the configuration; the
/// largest body is the Kazakh API's `max_body_bytes` (the neighbour fronts keep their 1 MiB).
fn listen_limits(config: &Config) -> crate::listen::Limits {
    crate::listen::Limits {
        max_connections: config.max_connections,
        header_timeout: std::time::Duration::from_millis(config.header_timeout_ms),
        body_timeout: std::time::Duration::from_millis(config.body_timeout_ms),
        max_body: config.max_body_bytes,
    }
}

/// Says loudly, in the log and in one line on stderr, that a demo PIN anyone can look up still opens this
/// server.
fn warn_demo_pin(whose: &str, pin: &str, change: &str) {
    tracing::warn!(whose, "the demo PIN {pin} is in use: anyone who read the README can use it; {change}");
    eprintln!("kassa: WARNING: the {whose} still has the demo PIN {pin}; {change}");
}

/// Resolves when the process gets SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    // The handlers are registered here, when this is called, not when the future is first polled: a SIGTERM
    // that arrives between "listening" and the first poll would otherwise end the process at once, without
    // the clean stop (tests/trust: a service manager stopping a server that had just started).
    #[cfg(unix)]
    let (terminate, interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(terminate) => {},
                _ = wait(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received: finishing in-flight requests");
    }
}

/// Blocking threads (SQLite calls waiting for fsync, rendering): enough for the group commit to batch, few
/// enough that each thread's allocator arena does not add up.
const BLOCKING_THREADS: usize = 16;

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tame_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// glibc's malloc keeps freed memory in up to 8 arenas per core, and after a large block is freed it raises its
/// mmap threshold so later large blocks (a journal list, a PNG) come from those arenas and stay resident: 60 s
/// of mixed load grew the server from 20 MB to 400 MB. Two arenas, a fixed 64 KiB mmap threshold (large
/// blocks go back to the OS when freed) and a 1 MiB trim threshold keep it flat (`cargo bench --bench memory`).
fn tame_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before the runtime starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Hands freed heap pages back to the OS every few seconds: after a burst of large answers (journal lists,
/// images) the arenas hold free memory that the allocator would otherwise keep resident.
fn trim_allocator_periodically() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // SAFETY: malloc_trim only returns free memory to the OS; it takes the allocator's own locks.
            unsafe {
                libc::malloc_trim(0);
            }
        }
    });
}

/// Starts the other countries' fronts that are configured (each off by default) beside the Kazakh API,
/// over the same store, receipt step and spooler; they stop when `stopped` turns true.
pub async fn start_fronts(
    config: &Config,
    started: &Started,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
    let mut tasks = start_by(config, started, stopped.clone()).await?;
    tasks.extend(start_ua(config, started, stopped).await?);
    Ok(tasks)
}

/// Tells the other nodes of a PostgreSQL store where this node's listener of `front` is, so they can hand it
/// requests for the devices it serves: `store.advertise` as the host when given, else the bound address.
fn advertise(config: &Config, store: &Store, front: &str, listener: &TcpListener) {
    let Ok(bound) = listener.local_addr() else {
        return;
    };
    let host = match &config.store.advertise {
        Some(host) => host.clone(),
        None if bound.ip().is_unspecified() => "127.0.0.1".into(),
        None if bound.is_ipv6() => format!("[{}]", bound.ip()),
        None => bound.ip().to_string(),
    };
    store.advertise(front, &format!("http://{host}:{}", bound.port()));
}

/// The address a listener is bound to, for the log (the configured one may say port 0).
fn local(listener: &TcpListener) -> String {
    listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
}

/// A future that ends when `stopped` turns true.
fn until_stopped(stopped: &tokio::sync::watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stopped = stopped.clone();
    async move {
        let _ = stopped.wait_for(|s| *s).await;
    }
}

/// The Belarusian front, when a listener is configured.
async fn start_by(
    config: &Config,
    started: &Started,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
    use crate::country::by;
    let by = &config.by;
    if by.listen.is_none() && by.tcp_listen.is_none() {
        return Ok(Vec::new());
    }
    if by.sko.iter().any(|sko| sko.pin == crate::config::by::DEMO_PIN) {
        warn_demo_pin("Belarusian СКО", crate::config::by::DEMO_PIN, "set by.sko.pin in the configuration");
    }
    let key = started.core.terminal_key();
    let state_over = {
        let (printing, auth, store) = (started.printing.clone(), config.auth.clone(), started.store.clone());
        // The throttle's known terminals are the node's, whichever tenant a СКО serves.
        move |by, ledger: Arc<Ledger>| {
            let throttle = crate::listen::throttle::Throttle::new("by", &auth, key, Some(store.clone()));
            Ok(Arc::new(by::actions::ByState::new(by, ledger, printing.clone(), throttle)?))
        }
    };
    let state = state_over(by.clone(), started.ledger.clone())?;
    let by_tenants = TenantStates::new(config, &started.store, |t| t.by.clone(), state_over);
    let limits = listen_limits(config);
    let until = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let mut tasks = Vec::new();
    if let Some(addr) = &by.listen {
        let listener = crate::listen::bind("by-http", addr, "by.listen").await?;
        advertise(config, &started.store, "by", &listener);
        let serials: Vec<&str> = by.sko.iter().map(|sko| sko.serial.as_str()).collect();
        tracing::info!(listen = %local(&listener), serials = %serials.join(","), "Belarusian front (HTTP) serving; simulated СКО, test mode");
        let (state, until, web) = (state.clone(), until(), config.cors.clone());
        let tenants = by_tenants.clone().map(|states| {
            let web = web.clone();
            http_tenants(by::front::no_tenant, move |name| Ok(states.state(name)?.map(|s| by::front::router(s, &web))))
        });
        tasks.push(tokio::spawn(async move {
            if let Err(e) = by::front::serve_http(state, tenants, listener, limits, &web, until).await {
                tracing::error!(error = %e, "Belarusian HTTP front failed");
            }
        }));
    }
    if let Some(addr) = &by.tcp_listen {
        let listener = crate::listen::bind("by-tcp", addr, "by.tcp_listen").await?;
        tracing::info!(listen = %local(&listener), "Belarusian front (framed TCP) serving");
        let (state, until) = (state.clone(), until());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = by::front::serve_tcp(state, listener, limits, until).await {
                tracing::error!(error = %e, "Belarusian TCP front failed");
            }
        }));
    }
    // A frame carries no path: a tenant's СКО take frames on a listener of the tenant's own.
    let own_listeners = by_tenants.iter().flat_map(|states| {
        states.names().filter_map(|(name, by)| Some((states.clone(), name.clone(), by.tcp_listen.clone()?)))
    });
    for (states, name, addr) in own_listeners.collect::<Vec<_>>() {
        let tenant = name.clone();
        let built = tokio::task::spawn_blocking(move || states.state(&tenant)).await;
        let Some(state) = built.map_err(|e| format!("tenant {name}: {e}"))?? else { continue };
        let listener =
            crate::listen::bind(&format!("by-tcp-{name}"), &addr, &format!("tenants.{name}.by.tcp_listen")).await?;
        tracing::info!(tenant = %name, listen = %local(&listener), "Belarusian front (framed TCP) serving a tenant");
        let until = until();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = by::front::serve_tcp(state, listener, limits, until).await {
                tracing::error!(error = %e, "Belarusian TCP front failed");
            }
        }));
    }
    Ok(tasks)
}

/// The other tenants' fronts on one HTTP listener, built by `front` (None: not a tenant served here).
fn http_tenants(
    answer: fn(String) -> axum::response::Response,
    front: impl Fn(&str) -> Result<Option<axum::Router>, String> + Send + Sync + 'static,
) -> Arc<dyn crate::listen::tenants::Fronts> {
    Arc::new(crate::listen::tenants::Blocking::new(front, answer))
}

/// The Ukrainian front, when its listener is configured.
async fn start_ua(
    config: &Config,
    started: &Started,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
    use crate::country::ua;
    let Some(addr) = &config.ua.listen else {
        return Ok(Vec::new());
    };
    let ledger = started.ledger.clone();
    let state = Arc::new(ua::tasks::UaState::new(config.ua.clone(), ledger, started.printing.clone())?);
    let listener = crate::listen::bind("ua", addr, "ua.listen").await?;
    advertise(config, &started.store, "ua", &listener);
    let fisids: Vec<&str> = config.ua.prro.iter().map(|prro| prro.fisid.as_str()).collect();
    tracing::info!(listen = %local(&listener), fisids = %fisids.join(","), "Ukrainian front (Vchasno DM) serving; test ПРРО, test mode");
    let until = until_stopped(&stopped);
    let (limits, web) = (listen_limits(config), config.cors.clone());
    let tenants = {
        let printing = started.printing.clone();
        let states = TenantStates::new(
            config,
            &started.store,
            |t| t.ua.clone(),
            move |ua, ledger| Ok(Arc::new(ua::tasks::UaState::new(ua, ledger, printing.clone())?)),
        );
        let web = web.clone();
        states.map(|states| {
            http_tenants(ua::front::no_tenant, move |name| Ok(states.state(name)?.map(|s| ua::front::router(s, &web))))
        })
    };
    Ok(vec![tokio::spawn(async move {
        if let Err(e) = ua::front::serve_http(state, tenants, listener, limits, &web, until).await {
            tracing::error!(error = %e, "Ukrainian HTTP front failed");
        }
    })])
}

/// Runs `kassa serve` until SIGINT or SIGTERM.
pub fn run_blocking(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(&args).map_err(|e| e.to_string())?;
    let closed = runtime()?.block_on(async move {
        // Before anything is announced: a stop asked for from then on is a clean stop.
        let stop_asked = shutdown_signal();
        let started = start_core(&config, Arc::new(SystemClock)).await?;
        let closed = started.store.closed_flag();
        trim_allocator_periodically();
        if let Some(emulator) = &started.emulator {
            crate::listen::announce("ofd-emulator", emulator.addr());
        }
        let listener = crate::listen::bind("api", &config.listen, "listen").await?;
        advertise(&config, &started.store, "api", &listener);
        tracing::info!(listen = %local(&listener), data_dir = %config.data_dir.display(), "kassa serving");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let fronts = start_fronts(&config, &started, stopped).await?;
        serve(started.state(), listener, stop_asked).await.map_err(|e| format!("server failed: {e}"))?;
        let _ = stop.send(true);
        for front in fronts {
            let _ = front.await;
        }
        started.printing.spooler.shutdown();
        // Other nodes of a PostgreSQL store take this node's devices at once, not after their leases lapse.
        let store = started.store.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || store.release_leases()).await.unwrap_or(Ok(())) {
            tracing::warn!(error = %e, "cannot release the leases; they lapse by themselves");
        }
        tracing::info!("stopped");
        Ok::<_, String>(closed)
    })?;
    // The runtime is gone with its tasks; a thread of ours may still hold the store for a moment (the log
    // watch): wait for it to close, so the clean stop is recorded before the process ends.
    // A busy machine can take seconds; a service manager allows far longer (systemd: 90 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !closed.load(std::sync::atomic::Ordering::SeqCst) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if !closed.load(std::sync::atomic::Ordering::SeqCst) {
        tracing::warn!("the database did not close within 10 s: the next start checks it fully");
    }
    Ok(())
}

/// The data folder a tool works on must be one a server made: a tool never creates one (nor a fresh
/// install with a new administrator) by accident.
fn existing_folder(config: &Config, what: &str) -> Result<(), String> {
    // Serving from PostgreSQL, the folder holds no kassa.db: the lock file says a server made it.
    let made_by_server = match config.store.url {
        Some(_) => folder::LOCK_FILE,
        None => folder::DATABASE,
    };
    if config.data_dir.join(made_by_server).is_file() {
        return Ok(());
    }
    Err(format!(
        "{} is not a Kassa data folder ({} is missing), so there is nothing to {what}. Name the server's folder \
         with --data-dir (or data_dir in --config); `kassa serve` makes a new one",
        config.data_dir.display(),
        made_by_server
    ))
}

/// `kassa printers`: what `GetPrinterList` lists, for the server's data folder and configuration, as JSON.
/// It holds the folder's lock while it looks, so it never opens the print queue beside a running server.
pub fn printers(args: crate::spool::cli::PrintersArgs) -> Result<(), String> {
    let serve =
        ServeArgs { listen: None, data_dir: args.data_dir.clone(), config: args.config.clone(), ..Default::default() };
    let config = Config::resolve(&serve).map_err(|e| e.to_string())?;
    existing_folder(&config, "list printers for")?;
    let _folder = DataFolder::lock(&config.data_dir).map_err(|e| {
        format!("{e}. While the server runs, ask it instead: GetPrinterList (curl -H 'Authorization: <PIN>' http://<listen>/GetPrinterList)")
    })?;
    let mut spool = config.spool.clone().unwrap_or_else(|| SpoolConfig::serve_default(&config.data_dir));
    if args.no_cups {
        spool.discover_cups = false;
    }
    let spooler = Spooler::open_for_listing(&config.data_dir, spool).map_err(|e| e.to_string())?;
    let found = spooler.discover().map_err(|e| e.to_string());
    spooler.shutdown();
    println!("{}", crate::country::kz::front::methods::print::printer_list_json(&found?));
    Ok(())
}

/// `kassa ofd info --kkm <ofd_id>` without `--host`: asks the KKM's configured OFD with its stored token and
/// the next REQNUM, stores what it learns (token, registration data, ads), and prints the answer as JSON.
pub fn ofd_info(args: crate::country::kz::ofd_link::cli::InfoArgs) -> Result<(), String> {
    let serve =
        ServeArgs { listen: None, data_dir: args.data_dir.clone(), config: args.config.clone(), ..Default::default() };
    let config = Config::resolve(&serve).map_err(|e| e.to_string())?;
    existing_folder(&config, "ask the OFD about")?;
    runtime()?.block_on(async move {
        let started = start_core(&config, Arc::new(SystemClock)).await?;
        let answer = started.core.ofd_info(i64::from(args.kkm)).await.map_err(|e| e.to_string())?;
        println!("{}", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?);
        Ok(())
    })
}
