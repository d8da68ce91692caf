//! The kernel's MPTCP subflow endpoints (`ip mptcp endpoint show`), read over generic
//! netlink (`mptcp_pm`, readable without privilege); parsed by `core::mptcp`.

use std::io;

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkMessage, NetlinkPayload, ParseableParametrized, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::core::mptcp::{parse_endpoint, Endpoint};

/// `MPTCP_PM_CMD_*` (linux/mptcp_pm.h).
const MPTCP_PM_CMD_ADD_ADDR: u8 = 1;
const MPTCP_PM_CMD_DEL_ADDR: u8 = 2;
const MPTCP_PM_CMD_GET_ADDR: u8 = 3;
/// `MPTCP_PM_VER`.
const MPTCP_PM_VERSION: u8 = 1;

/// A `mptcp_pm` message: a command and its attributes as raw bytes (`core::mptcp`
/// parses them).
#[derive(Clone, Debug)]
struct MptcpPm {
    cmd: u8,
    attributes: Vec<u8>,
}

impl GenlFamily for MptcpPm {
    fn family_name() -> &'static str {
        "mptcp_pm"
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        MPTCP_PM_VERSION
    }
}

impl Emitable for MptcpPm {
    fn buffer_len(&self) -> usize {
        self.attributes.len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.attributes.len()].copy_from_slice(&self.attributes);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for MptcpPm {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(MptcpPm { cmd: header.cmd, attributes: buf.to_vec() })
    }
}

/// Sends `request` and collects the replies' payloads until the dump ends (or the one
/// answer, without NLM_F_DUMP). Netlink errors become `io::Error`s.
fn exchange<F>(socket: &mut Socket, mut request: NetlinkMessage<GenlMessage<F>>) -> io::Result<Vec<F>>
where
    F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + std::fmt::Debug,
{
    let dump = request.header.flags & NLM_F_DUMP == NLM_F_DUMP;
    request.finalize();
    let mut tx = vec![0u8; request.buffer_len()];
    request.serialize(&mut tx);
    socket.send(&tx, 0)?;
    let mut out = Vec::new();
    let mut rx = vec![0u8; 32 * 1024];
    loop {
        let n = socket.recv(&mut &mut rx[..], 0)?;
        let mut offset = 0;
        while offset < n {
            let msg = NetlinkMessage::<GenlMessage<F>>::deserialize(&rx[offset..n])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let len = msg.header.length as usize;
            match msg.payload {
                NetlinkPayload::Done(_) => return Ok(out),
                // An acknowledgement (no error code) ends a request made with NLM_F_ACK.
                NetlinkPayload::Error(e) => match e.code {
                    None => return Ok(out),
                    Some(c) => return Err(io::Error::from_raw_os_error(-c.get())),
                },
                NetlinkPayload::InnerMessage(m) => {
                    out.push(m.payload);
                    if !dump {
                        return Ok(out);
                    }
                }
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += (len + 3) & !3;
        }
    }
}

/// The endpoint table of the calling thread's network namespace. ENOENT when the
/// kernel has no MPTCP path manager.
pub fn endpoints() -> io::Result<Vec<Endpoint>> {
    Ok(endpoint_replies()?.iter().filter_map(|r| parse_endpoint(r)).collect())
}

/// A generic-netlink socket with the `mptcp_pm` family's id.
fn open() -> io::Result<(Socket, u16)> {
    let mut socket = Socket::new(NETLINK_GENERIC)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let family = family_id(&mut socket)?;
    Ok((socket, family))
}

/// Adds a subflow endpoint for `addr` bound to `ifindex` (CAP_NET_ADMIN); the kernel
/// picks its id.
pub fn add_subflow_endpoint(addr: std::net::IpAddr, ifindex: u32) -> io::Result<()> {
    let (mut socket, family) = open()?;
    let attributes = encode_endpoint(addr, 0, crate::core::mptcp::FLAG_SUBFLOW, ifindex);
    command(&mut socket, family, MPTCP_PM_CMD_ADD_ADDR, attributes)
}

/// Removes endpoint `id` (CAP_NET_ADMIN).
pub fn delete_endpoint(id: u8, addr: std::net::IpAddr) -> io::Result<()> {
    let (mut socket, family) = open()?;
    command(&mut socket, family, MPTCP_PM_CMD_DEL_ADDR, encode_endpoint(addr, id, 0, 0))
}

/// A request that the kernel acknowledges (NLM_F_ACK): its error, if any.
fn command(socket: &mut Socket, family: u16, cmd: u8, attributes: Vec<u8>) -> io::Result<()> {
    let mut genl = GenlMessage::from_payload(MptcpPm { cmd, attributes });
    genl.set_resolved_family_id(family);
    genl.finalize();
    let mut request = NetlinkMessage::from(genl);
    request.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    exchange(socket, request).map(drop)
}

/// An `MPTCP_PM_ATTR_ADDR` with family, id, address, flags and interface.
fn encode_endpoint(addr: std::net::IpAddr, id: u8, flags: u32, ifindex: u32) -> Vec<u8> {
    fn attr(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
        let len = 4 + value.len();
        out.extend_from_slice(&(len as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    let mut nested = Vec::new();
    let (family, bytes, kind): (u16, Vec<u8>, u16) = match addr {
        std::net::IpAddr::V4(a) => (libc::AF_INET as u16, a.octets().to_vec(), 3),
        std::net::IpAddr::V6(a) => (libc::AF_INET6 as u16, a.octets().to_vec(), 4),
    };
    attr(&mut nested, 1, &family.to_ne_bytes());
    if id != 0 {
        attr(&mut nested, 2, &[id]);
    }
    attr(&mut nested, kind, &bytes);
    if flags != 0 {
        attr(&mut nested, 6, &flags.to_ne_bytes());
    }
    if ifindex != 0 {
        attr(&mut nested, 7, &(ifindex as i32).to_ne_bytes());
    }
    let mut out = Vec::new();
    // MPTCP_PM_ATTR_ADDR, nested (NLA_F_NESTED).
    attr(&mut out, 1 | 0x8000, &nested);
    out
}

/// The raw attributes of each `MPTCP_PM_CMD_GET_ADDR` reply.
fn endpoint_replies() -> io::Result<Vec<Vec<u8>>> {
    let (mut socket, family) = open()?;
    let mut genl = GenlMessage::from_payload(MptcpPm { cmd: MPTCP_PM_CMD_GET_ADDR, attributes: Vec::new() });
    genl.set_resolved_family_id(family);
    genl.finalize();
    let mut request = NetlinkMessage::from(genl);
    request.header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    Ok(exchange(&mut socket, request)?.into_iter().map(|r| r.attributes).collect())
}

/// The `mptcp_pm` family's id (the controller's answer).
fn family_id(socket: &mut Socket) -> io::Result<u16> {
    let resolve = GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(MptcpPm::family_name().to_string())],
    };
    let mut genl = GenlMessage::from_payload(resolve);
    genl.finalize();
    let mut request = NetlinkMessage::from(genl);
    request.header.flags = NLM_F_REQUEST;
    exchange(socket, request)?
        .into_iter()
        .flat_map(|c| c.nlas)
        .find_map(|a| match a {
            GenlCtrlAttrs::FamilyId(id) => Some(id),
            _ => None,
        })
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
}

#[cfg(test)]
mod tests {
    /// Prints the raw reply bytes of this namespace's endpoint table (for capturing
    /// test data): `cargo test --lib dump_mptcp_endpoints -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn dump_mptcp_endpoints() {
        for reply in super::endpoint_replies().unwrap() {
            println!("{reply:02x?}");
        }
        println!("{:?}", super::endpoints());
    }
}
