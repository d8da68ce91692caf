//! The C API: every exported function, type and constant of `include/mif.h`, and the
//! only code that speaks C. One file per C type family, in the manner of rustls-ffi:
//! `status` (result codes and the one map from the runtime's error), `options`,
//! `request`, `address`, `message`, `constants` (the other constant families) and
//! `context` (the context's functions). `build.rs` hands exactly these files to
//! cbindgen, in this order.
//!
//! Rules kept here (see README.md, "API conventions"):
//! - every export runs inside `ffi_guard!`, so no panic crosses the ABI;
//! - every pointer argument is NULL-checked before use;
//! - out-parameters are written only on success;
//! - structs the application fills start with a `size` field and are read only as
//!   far as that size reaches (`read_sized`);
//! - C values become the runtime's Rust values here, and the runtime's `Error`
//!   becomes a `mif_result` here (`status::code_of`), nowhere else.
#![allow(non_camel_case_types)]
// The exported functions take raw pointers from C by design: each is NULL-checked and
// read under the API's contract (and a SAFETY line), as rustls-ffi does.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

/// Runs `$body`, turning a panic into `$fallback`: no unwinding crosses the ABI.
macro_rules! ffi_guard {
    ($fallback:expr, $body:block) => {{
        // A panic caught here prints nothing (the library's panic hook knows).
        let _inside = $crate::log::InLibrary::enter();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(_) => $fallback,
        }
    }};
}

/// Turns a possibly-NULL pointer into a reference or returns `MIF_E_NULL_ARGUMENT`.
macro_rules! try_ref {
    ($ptr:expr) => {
        // SAFETY: the application passes NULL or a pointer to a live object of this
        // type (the API's contract); NULL is handled.
        match unsafe { $ptr.as_ref() } {
            Some(r) => r,
            None => return $crate::capi::status::MIF_E_NULL_ARGUMENT,
        }
    };
}

pub mod address;
pub mod constants;
pub mod context;
mod handles;
pub mod message;
pub mod options;
pub mod request;
pub mod status;

use crate::core::Error;

/// Reads a struct the application filled, whose first field is its `u32` size: the
/// prefix the application knows of is copied over our defaults (later fields keep
/// their defaults). Returns the struct and the size, or `BadSize` when the size is
/// below `min` or above our own struct.
///
/// # Safety
/// `ptr` is non-NULL and points to at least `(*ptr).size` readable bytes, and `T` is a
/// `repr(C)` struct that accepts any bit pattern of its integer fields and NULL or
/// application-owned pointers (true of `mif_options` and `mif_request`).
pub(crate) unsafe fn read_sized<T: Default>(ptr: *const T, min: usize) -> Result<(T, usize), Error> {
    // SAFETY: the size field comes first and the caller guarantees at least that much;
    // read it alone, unaligned, before trusting anything else.
    let size = unsafe { std::ptr::read_unaligned(ptr.cast::<u32>()) } as usize;
    if size < min.max(std::mem::size_of::<u32>()) || size > std::mem::size_of::<T>() {
        return Err(Error::BadSize);
    }
    let mut copy = T::default();
    // SAFETY: `size` bytes are readable at `ptr` (the caller's guarantee) and fit in
    // `copy` (checked above); the regions cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), (&mut copy as *mut T).cast::<u8>(), size) };
    Ok((copy, size))
}

/// Writes the first `size` bytes of `value` to `dst` (zeroes past our own struct, for a
/// program compiled against a newer, larger one), never more than the caller's `size`.
///
/// # Safety
/// `dst` must be valid for `size` bytes of writes.
pub(crate) unsafe fn write_prefix<T>(dst: *mut u8, size: usize, value: &T) {
    let ours = std::mem::size_of::<T>();
    // SAFETY: the caller guarantees `size` writable bytes at `dst`; we copy at most
    // `size` bytes from `value`, which has `ours`.
    unsafe {
        std::ptr::write_bytes(dst, 0, size);
        std::ptr::copy_nonoverlapping((value as *const T).cast::<u8>(), dst, size.min(ours));
    }
}
