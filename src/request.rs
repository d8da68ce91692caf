//! Requests as the application posts them, read from C memory as far as `size` says.
use std::mem::{offset_of, size_of};

use crate::ffi::*;

/// A validated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    AnnounceInterfaces,
    StopAnnouncingInterfaces,
    AnnouncePvds { ifindex: u32 },
    StopAnnouncingPvds { ifindex: u32 },
    AnnounceAddresses { pvd: u64 },
    StopAnnouncingAddresses { pvd: u64 },
}

/// Reads a `mif_request` whose `size` the application set.
///
/// # Safety
/// `req` must be non-NULL and point to at least `req->size` readable bytes.
pub(crate) unsafe fn from_c(req: *const mif_request) -> Result<Request, mif_result> {
    // The size field comes first; read it alone before trusting anything else.
    let size = unsafe { std::ptr::read_unaligned(req.cast::<u32>()) } as usize;
    let header_end = offset_of!(mif_request, request_type) + size_of::<u32>();
    if size < header_end || size > size_of::<mif_request>() {
        return Err(MIF_E_BAD_SIZE);
    }
    // Copy the prefix the application knows of; later fields stay zero.
    let mut copy = mif_request { size: 0, request_type: 0, ifindex: 0, reserved: 0, pvd: 0 };
    unsafe {
        std::ptr::copy_nonoverlapping(req.cast::<u8>(), (&mut copy as *mut mif_request).cast::<u8>(), size);
    }
    let needs = |end: usize| if size >= end { Ok(()) } else { Err(MIF_E_BAD_SIZE) };
    let ifindex_end = offset_of!(mif_request, ifindex) + size_of::<u32>();
    let pvd_end = offset_of!(mif_request, pvd) + size_of::<u64>();
    if copy.reserved != 0 {
        return Err(MIF_E_INVALID_ARGUMENT);
    }
    Ok(match copy.request_type {
        MIF_REQ_ANNOUNCE_INTERFACES => Request::AnnounceInterfaces,
        MIF_REQ_STOP_ANNOUNCING_INTERFACES => Request::StopAnnouncingInterfaces,
        MIF_REQ_ANNOUNCE_PVDS => {
            needs(ifindex_end)?;
            Request::AnnouncePvds { ifindex: copy.ifindex }
        }
        MIF_REQ_STOP_ANNOUNCING_PVDS => {
            needs(ifindex_end)?;
            Request::StopAnnouncingPvds { ifindex: copy.ifindex }
        }
        MIF_REQ_ANNOUNCE_ADDRESSES => {
            needs(pvd_end)?;
            Request::AnnounceAddresses { pvd: copy.pvd }
        }
        MIF_REQ_STOP_ANNOUNCING_ADDRESSES => {
            needs(pvd_end)?;
            Request::StopAnnouncingAddresses { pvd: copy.pvd }
        }
        _ => return Err(MIF_E_UNKNOWN_REQUEST_TYPE),
    })
}
