//! The binary's allocator: mimalloc, called the way its fast paths expect.
//!
//! The `mimalloc` crate's `GlobalAlloc` passes every allocation to `mi_malloc_aligned`, which
//! takes a slow path (over-allocate, then align inside the block, and mark the page as holding
//! interior pointers) for any block over 1 KiB whose size class is not a power of two, even at
//! alignment 1: a route's boxed future, a body being collected. On the SMS mock that was seven
//! allocations a request and a tenth of its instructions (benches/README.md, "The allocator's
//! aligned path, and the metrics' hashing"). Every mimalloc block is aligned to a machine word,
//! so a layout asking no more than that is served by the plain functions; only larger
//! alignments take the aligned ones.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment every block of `mi_malloc` has (its size classes are multiples of a word).
const WORD: usize = std::mem::size_of::<usize>();

/// mimalloc behind Rust's allocator interface.
pub struct Mimalloc;

// SAFETY: every function forwards to mimalloc, which returns blocks of at least the size asked,
// aligned to a word by `mi_malloc`/`mi_zalloc`/`mi_realloc` and to the given power of two by
// the `_aligned` forms (a `Layout`'s alignment is always a power of two); `mi_free` takes any
// block either gave.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_malloc(layout.size()).cast()
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_zalloc(layout.size()).cast()
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_realloc(ptr.cast(), new_size).cast()
        } else {
            mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment the program may ask for comes back aligned as asked, holds what
    /// was written in it, and keeps it when grown or shrunk.
    #[test]
    fn blocks_are_aligned_as_asked_and_keep_their_contents() {
        let a = Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 128, 4096] {
            for size in (1..=40).chain([100, 1000, 1025, 2448, 4000, 8192, 70_000]) {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: the layout has a non-zero size; each block is freed once, with the
                // layout it was allocated with.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    for i in 0..size {
                        *p.add(i) = (i % 251) as u8;
                    }
                    let grown = a.realloc(p, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown {size}, align {align}");
                    for i in 0..size {
                        assert_eq!(*grown.add(i), (i % 251) as u8);
                    }
                    let bigger = Layout::from_size_align(size * 3, align).unwrap();
                    let shrunk = a.realloc(grown, bigger, size.div_ceil(2));
                    assert_eq!(shrunk as usize % align, 0, "shrunk {size}, align {align}");
                    for i in 0..size.div_ceil(2) {
                        assert_eq!(*shrunk.add(i), (i % 251) as u8);
                    }
                    a.dealloc(
                        shrunk,
                        Layout::from_size_align(size.div_ceil(2), align).unwrap(),
                    );
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "zeroed {size}, align {align}");
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
