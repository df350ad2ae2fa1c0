//! The component's allocator: a bump arena over linear memory.
//!
//! Every event runs in a fresh instance whose memory is thrown away afterwards, so nothing
//! needs to be reused across events and a general-purpose allocator's bookkeeping (free
//! lists, coalescing) is pure overhead on the hot path. Freeing or growing the most recent
//! block is done in place, which covers the common push-and-grow pattern of strings and
//! vectors while serializing; anything else freed is simply left behind until the instance
//! goes. The instance's memory cap still bounds what one event may use.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

const PAGE: usize = 65_536;

unsafe extern "C" {
    static __heap_base: u8;
}

/// The arena's cursor: the next free byte, the end of the memory grown so far, and the
/// start of the last block handed out (the only one that can shrink or grow in place).
struct Cursor {
    next: usize,
    end: usize,
    last: usize,
}

/// A bump allocator for a single-threaded, short-lived wasm instance.
pub struct Arena {
    cursor: UnsafeCell<Cursor>,
}

// SAFETY: wasm32 instances here are single-threaded (the engine turns the threads proposal
// off), so the cursor is never touched concurrently.
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena; it starts after the module's stack and data, in the memory the
    /// instance starts with, and grows it only when an event needs more.
    pub const fn new() -> Arena {
        Arena {
            cursor: UnsafeCell::new(Cursor {
                next: 0,
                end: 0,
                last: usize::MAX,
            }),
        }
    }
}

impl Cursor {
    /// Makes room up to `top`, growing linear memory by whole pages; `false` when the
    /// memory cap refuses.
    fn reserve(&mut self, top: usize) -> bool {
        if top <= self.end {
            return true;
        }
        let pages = (top - self.end).div_ceil(PAGE);
        if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end += pages * PAGE;
        true
    }

    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        if self.end == 0 {
            // The linker's `__heap_base` is the first byte after the module's stack and data;
            // only its address is taken.
            self.next = core::ptr::addr_of!(__heap_base) as usize;
            self.end = core::arch::wasm32::memory_size(0) * PAGE;
        }
        let start = self.next.next_multiple_of(layout.align());
        match start.checked_add(layout.size()) {
            Some(top) if self.reserve(top) => {
                self.next = top;
                self.last = start;
                start as *mut u8
            }
            _ => ptr::null_mut(),
        }
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded, see the `Sync` impl; no reference outlives this call.
        unsafe { &mut *self.cursor.get() }.alloc(layout)
    }

    unsafe fn dealloc(&self, block: *mut u8, _layout: Layout) {
        // SAFETY: as in `alloc`.
        let cursor = unsafe { &mut *self.cursor.get() };
        if block as usize == cursor.last {
            cursor.next = cursor.last;
            cursor.last = usize::MAX;
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let cursor = unsafe { &mut *self.cursor.get() };
        if block as usize == cursor.last {
            let top = cursor.last + new_size;
            if new_size <= layout.size() || cursor.reserve(top) {
                cursor.next = top;
                return block;
            }
        }
        // SAFETY: the layout is the caller's, with a size it asked for.
        let moved = cursor.alloc(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if !moved.is_null() {
            // SAFETY: both blocks are live and at least `min(old, new)` bytes long; a fresh
            // bump block never overlaps an older one.
            unsafe { ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size)) };
        }
        moved
    }
}
