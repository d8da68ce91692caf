//! Fuzz target: arbitrary bytes as a `mif_request` the application filled, decoded as
//! `mif_post_message` decodes it (`mif::fuzzing::fuzz_request_from_c`, which checks the
//! outcome against the bytes field by field).
//!
//! The input's first `sizeof(mif_request)` bytes are the struct, `size` field first (so
//! any claimed size, 0 to u32::MAX: fewer bytes than the struct, or more); the rest is
//! the text of `name`, up to its first NUL. The API's contract is kept: `req` points to
//! at least `size` readable bytes. The struct is copied to the start of a readable,
//! zero-filled mapping of 4 GiB + 4 KiB (reserved once, never backed by more than the
//! pages touched), so even `size = u32::MAX` is memory the process owns, and bytes
//! past the input up to `size` read as 0. A non-zero `name` field becomes a pointer to
//! the NUL-terminated text (a C program passes a string or NULL there), and a non-zero
//! `selections` field a pointer to the bytes after that NUL, as many selections as
//! the library may read (`fuzz_selections`).
//!
//! Then the bytes from `size` to the struct's end are overwritten and the request is
//! decoded again: the outcome must not change (only `size` bytes are the
//! application's; a read of the garbled `name` pointer would crash).
#![no_main]

use std::ffi::c_void;
use std::mem::{offset_of, size_of};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mif::capi::request::mif_request;

/// Bytes mapped: more than any `size` a `mif_request` can claim.
const SPAN: usize = (1 << 32) + 4096;

// Linux's values (x86_64 and aarch64 alike).
const PROT_READ: i32 = 1;
const PROT_WRITE: i32 = 2;
const MAP_PRIVATE: i32 = 0x02;
const MAP_ANONYMOUS: i32 = 0x20;
const MAP_NORESERVE: i32 = 0x4000;

extern "C" {
    fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, offset: i64) -> *mut c_void;
}

/// The mapping's address (as usize: shared by libFuzzer's single thread only).
fn region() -> *mut u8 {
    static REGION: OnceLock<usize> = OnceLock::new();
    let addr = *REGION.get_or_init(|| {
        // SAFETY: a fresh anonymous private mapping; no existing memory is touched.
        let p = unsafe {
            mmap(std::ptr::null_mut(), SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        };
        assert!(p as isize != -1 && !p.is_null(), "mmap of {SPAN} bytes failed");
        p as usize
    });
    addr as *mut u8
}

fuzz_target!(|data: &[u8]| {
    let ours = size_of::<mif_request>();
    let (head, tail) = data.split_at(data.len().min(ours));
    let mut name: Vec<u8> = tail.iter().copied().take_while(|b| *b != 0).collect();
    let selections = mif::fuzzing::fuzz_selections(tail.get(name.len() + 1..).unwrap_or_default());
    name.push(0);

    let base = region();
    // SAFETY: the mapping is SPAN >= ours bytes, zero-filled (restored below after each
    // input), and nothing else uses it.
    let buf = unsafe { std::slice::from_raw_parts_mut(base, ours) };
    buf[..head.len()].copy_from_slice(head);
    let name_at = offset_of!(mif_request, name);
    let name_field = name_at..name_at + size_of::<usize>();
    if buf[name_field.clone()].iter().any(|b| *b != 0) {
        buf[name_field].copy_from_slice(&(name.as_ptr() as usize).to_ne_bytes());
    }
    let selections_at = offset_of!(mif_request, selections);
    let selections_field = selections_at..selections_at + size_of::<usize>();
    if buf[selections_field.clone()].iter().any(|b| *b != 0) {
        buf[selections_field].copy_from_slice(&(selections.as_ptr() as usize).to_ne_bytes());
    }
    let size = u32::from_ne_bytes(buf[..4].try_into().unwrap()) as usize;

    // SAFETY: `base` is aligned (a mapping) and has SPAN > u32::MAX >= size readable
    // bytes; `name` is NULL or points to `name`, NUL-terminated and alive until the end;
    // `selections` is NULL or points to `selections`, alive until the end.
    let first = unsafe { mif::fuzzing::fuzz_request_from_c(base as *const mif_request) };

    // Bytes past `size` are not the application's: garbling them changes nothing.
    let past = size.max(4);
    if past < ours {
        // SAFETY: as above; `buf` is not used while the library reads.
        let buf = unsafe { std::slice::from_raw_parts_mut(base, ours) };
        buf[past..].fill(0xa5);
        // SAFETY: as above.
        let second = unsafe { mif::fuzzing::fuzz_request_from_c(base as *const mif_request) };
        assert_eq!(first, second, "bytes past size {size} changed the outcome");
    }

    // SAFETY: as above.
    unsafe { std::slice::from_raw_parts_mut(base, ours) }.fill(0);
});
