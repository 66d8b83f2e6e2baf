//! The binary's memory allocator, chosen once at start by `KASSA_ALLOCATOR`: `jemalloc` (the default),
//! `mimalloc` or `glibc` (the system's malloc, tamed by `server::tame_allocator`).
//!
//! Under load glibc's malloc, limited to two arenas to keep memory flat, made the sale's threads queue on its
//! locks (issue 24: 15-20 % of the time in malloc and free). jemalloc with two arenas of per-thread caches
//! and freed pages returned at once ([`JEMALLOC_CONF`]) sells 1.5x faster than that glibc at the same RSS;
//! mimalloc and an untuned jemalloc were as fast but held 160-220 MB after the memory bench
//! (docs/performance.md). `cargo bench --bench memory` and `bench/trade_ab.sh` compare them (set the
//! variable in the server's environment; `_RJEM_MALLOC_CONF` still adjusts jemalloc). The choice is read
//! before the first allocation and never changes, so every block is freed by the allocator that made it.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

const UNSET: u8 = 0;
const GLIBC: u8 = 1;
const MIMALLOC: u8 = 2;
const JEMALLOC: u8 = 3;

pub struct Chosen {
    which: AtomicU8,
}

impl Chosen {
    pub const fn new() -> Chosen {
        Chosen { which: AtomicU8::new(UNSET) }
    }

    #[inline]
    fn which(&self) -> u8 {
        match self.which.load(Ordering::Relaxed) {
            UNSET => {
                let chosen = from_environment();
                self.which.store(chosen, Ordering::Relaxed);
                chosen
            }
            chosen => chosen,
        }
    }
}

/// Reads `KASSA_ALLOCATOR` without allocating (`getenv` returns the environment's own bytes).
fn from_environment() -> u8 {
    // SAFETY: getenv reads the process environment; the name is a NUL-terminated literal, and the first
    // allocation happens before any thread could change the environment.
    let value = unsafe { libc::getenv(c"KASSA_ALLOCATOR".as_ptr()) };
    if value.is_null() {
        return JEMALLOC;
    }
    // SAFETY: a non-null getenv result is a NUL-terminated string.
    match unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() {
        b"glibc" | b"system" => GLIBC,
        b"mimalloc" => MIMALLOC,
        _ => JEMALLOC,
    }
}

/// jemalloc's options, read by jemalloc at its start (the documented `malloc_conf` symbol, under the
/// crate's `_rjem_` prefix): two arenas like the tamed glibc, and freed pages handed back to the system at
/// once rather than after ten seconds, which kept the RSS of the memory bench at glibc's level.
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static JEMALLOC_CONF: &[u8] = b"narenas:2,dirty_decay_ms:0,muzzy_decay_ms:0\0";

static MI: mimalloc::MiMalloc = mimalloc::MiMalloc;
static JE: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// SAFETY: every call goes to one of three sound allocators, the same one for the whole life of the process.
unsafe impl GlobalAlloc for Chosen {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe {
            match self.which() {
                GLIBC => System.alloc(layout),
                MIMALLOC => MI.alloc(layout),
                _ => JE.alloc(layout),
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe {
            match self.which() {
                GLIBC => System.alloc_zeroed(layout),
                MIMALLOC => MI.alloc_zeroed(layout),
                _ => JE.alloc_zeroed(layout),
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded to the allocator that made `ptr` (the choice never changes).
        unsafe {
            match self.which() {
                GLIBC => System.dealloc(ptr, layout),
                MIMALLOC => MI.dealloc(ptr, layout),
                _ => JE.dealloc(ptr, layout),
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded to the allocator that made `ptr`.
        unsafe {
            match self.which() {
                GLIBC => System.realloc(ptr, layout, new_size),
                MIMALLOC => MI.realloc(ptr, layout, new_size),
                _ => JE.realloc(ptr, layout, new_size),
            }
        }
    }
}
