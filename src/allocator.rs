//! The binary's memory allocator, chosen once at start by `KASSA_ALLOCATOR`: `mimalloc` (the default),
//! `jemalloc` or `glibc` (the system's malloc, tamed by `server::tame_allocator`).
//!
//! Under load glibc's malloc, limited to two arenas to keep memory flat, made the sale's threads queue on its
//! locks (issue 24: 15-20 % of the time in malloc and free). The other two keep per-thread caches and give
//! memory back on their own; `cargo bench --bench memory` and `bench/trade_ab.sh` compare the three (set
//! the variable in the server's environment). The choice is read before the first allocation and never
//! changes, so every block is freed by the allocator that made it.
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
        return MIMALLOC;
    }
    // SAFETY: a non-null getenv result is a NUL-terminated string.
    match unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() {
        b"glibc" | b"system" => GLIBC,
        b"jemalloc" => JEMALLOC,
        _ => MIMALLOC,
    }
}

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
                JEMALLOC => JE.alloc(layout),
                _ => MI.alloc(layout),
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe {
            match self.which() {
                GLIBC => System.alloc_zeroed(layout),
                JEMALLOC => JE.alloc_zeroed(layout),
                _ => MI.alloc_zeroed(layout),
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded to the allocator that made `ptr` (the choice never changes).
        unsafe {
            match self.which() {
                GLIBC => System.dealloc(ptr, layout),
                JEMALLOC => JE.dealloc(ptr, layout),
                _ => MI.dealloc(ptr, layout),
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded to the allocator that made `ptr`.
        unsafe {
            match self.which() {
                GLIBC => System.realloc(ptr, layout, new_size),
                JEMALLOC => JE.realloc(ptr, layout, new_size),
                _ => MI.realloc(ptr, layout, new_size),
            }
        }
    }
}
