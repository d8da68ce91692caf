//! DNS as data (draft 3.2.7.18–3.2.7.20): names accepted for translation, the hosts
//! file, queries and the checks a reply must pass (RFC 5452: ID, QR, opcode,
//! question), answers with their CNAME chains. Wire format from hickory-proto. The
//! sockets that carry all this live in the engine's resolver.

use std::io;
use std::net::IpAddr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};

/// EDNS0 UDP payload size (DNS flag day 2020).
pub const EDNS_UDP_SIZE: u16 = 1232;
/// CNAME hops followed inside one answer.
const MAX_CNAME_HOPS: usize = 16;

/// A name accepted for translation: IDNA applied, lengths checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryName {
    /// ASCII form without the trailing dot.
    pub ascii: String,
    /// Written with a trailing dot: never tried with search domains.
    pub absolute: bool,
    /// An IPv4 or IPv6 address written as the name ("198.51.100.7", "fd6d:6966::1"):
    /// it translates to itself, with no lookup (as getaddrinfo does).
    pub literal: Option<IpAddr>,
}

impl QueryName {
    /// `None` for an empty name, a label over 63 octets or a name over 253 octets
    /// after IDNA, or anything IDNA refuses.
    pub fn parse(text: &str) -> Option<QueryName> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Some(QueryName { ascii: ip.to_string(), absolute: false, literal: Some(ip) });
        }
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        if trimmed.is_empty() || trimmed.starts_with('.') || trimmed.ends_with('.') || trimmed.contains("..") {
            return None;
        }
        // Most names are lowercase letters, digits and hyphens already: IDNA leaves them
        // as they are, so they skip it (a label starting "xn--" is punycode, which IDNA
        // checks). IDNA was a fifth of a post's CPU time in a profile of one name at a time.
        if is_plain_ldh(trimmed) {
            if trimmed.len() > 253 || trimmed.split('.').any(|l| l.len() > 63) {
                return None;
            }
            return Some(QueryName { ascii: trimmed.to_string(), absolute: text.ends_with('.'), literal: None });
        }
        Self::through_idna(text, trimmed)
    }

    /// `parse` for a name that needs IDNA (`trimmed`: `text` without its trailing dot).
    fn through_idna(text: &str, trimmed: &str) -> Option<QueryName> {
        // A backslash would be a presentation-format escape (`a\.b` is one label with a
        // dot in it): not a host name an application means.
        if trimmed.contains('\\') {
            return None;
        }
        let name = Name::from_utf8(trimmed).ok()?;
        let ascii = name.to_ascii();
        let ascii = ascii.strip_suffix('.').unwrap_or(&ascii).to_string();
        if ascii.is_empty() || ascii.len() > 253 || ascii.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return None;
        }
        Some(QueryName { ascii, absolute: text.ends_with('.'), literal: None })
    }

    /// The names to try, in order (docs/name-translation.md): a name with a dot as
    /// given first, then with each search domain; a single label only with the search
    /// domains (as given if there are none).
    pub fn candidates(&self, search: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        let dotted = self.ascii.contains('.');
        if self.absolute || dotted || search.is_empty() {
            out.push(self.ascii.clone());
        }
        if !self.absolute {
            for domain in search {
                let full = format!("{}.{}", self.ascii, domain.trim_end_matches('.'));
                if full.len() <= 253 && !out.contains(&full) {
                    out.push(full);
                }
            }
        }
        out
    }
}

pub mod cache;

/// Whether every label of `name` (dots between them, none empty) is lowercase ASCII
/// letters, digits and hyphens, and none starts with a hyphen (refused) or with the
/// punycode prefix "xn--" (checked): the names IDNA (`Name::from_utf8` and
/// `to_ascii`) returns unchanged.
fn is_plain_ldh(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.starts_with("xn--")
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// Which system answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameSource {
    Hosts,
    Dns,
    /// An earlier DNS answer through the same PvD's servers (`cache`).
    Cache,
    /// The name was an address (`QueryName::literal`).
    Literal,
}

/// How a translation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Done,
    NoSuchName,
    NoData,
    ServerFailure,
    Timeout,
    NoServers,
    Cancelled,
}

/// Hosts-file lookup: every address whose line names `name` (case-insensitive), in
/// file order, each once. A scan of the whole text: the reference `HostsIndex::lookup`
/// is held equal to (unit tests, the state-files fuzz target).
pub fn hosts_lookup(text: &str, name: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(addr) = hosts_line_answers(line, name) {
            if seen.insert(addr) {
                out.push(addr);
            }
        }
    }
    out
}

/// One line of a hosts file: its address and the words naming it; `None` for a
/// comment, a blank line, or a line whose first word is not an address.
fn hosts_line(line: &str) -> Option<(IpAddr, std::str::SplitWhitespace<'_>)> {
    let line = line.split('#').next().unwrap_or("");
    let mut words = line.split_whitespace();
    let addr = words.next().and_then(|w| w.split('%').next()).and_then(|w| w.parse::<IpAddr>().ok())?;
    Some((addr, words))
}

/// The line's address if the line names `name`.
fn hosts_line_answers(line: &str, name: &str) -> Option<IpAddr> {
    let (addr, mut words) = hosts_line(line)?;
    words.any(|w| w.trim_end_matches('.').eq_ignore_ascii_case(name)).then_some(addr)
}

/// A line without its ending, as `str::lines` cuts it ("\n", or "\r\n").
fn without_line_end(raw: &str) -> &str {
    match raw.strip_suffix('\n') {
        Some(line) => line.strip_suffix('\r').unwrap_or(line),
        None => raw,
    }
}

/// The index key of a name: its hash with ASCII letters lowercased (two names that
/// are equal ignoring ASCII case have one key), fed 64 bytes at a time.
fn hosts_key(name: &str) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    let mut lower = [0u8; 64];
    for chunk in name.as_bytes().chunks(lower.len()) {
        let lower = &mut lower[..chunk.len()];
        lower.copy_from_slice(chunk);
        lower.make_ascii_lowercase();
        hasher.write(lower);
    }
    hasher.finish()
}

/// The most names a `HostsIndex` holds (16 bytes each: 32 MiB). A hosts file naming
/// more (only a file of very short names can, within `MAX_HOSTS_FILE`) is scanned at
/// each lookup instead, as before the index.
pub const MAX_HOSTS_INDEX_ENTRIES: usize = 2 << 20;

/// Where each name of a hosts file is, so that a lookup reads only the lines that may
/// name it instead of the whole file (a large blocking list has hundreds of thousands
/// of lines; the lookup is made at every translation, with the resolver's lock held).
/// 16 bytes per name on a line; built when the file is read.
#[derive(Default)]
pub struct HostsIndex {
    /// (key of a name, byte offset of a line naming it), sorted: equal keys in file
    /// order.
    entries: Vec<(u64, u32)>,
    /// The text names more than `MAX_HOSTS_INDEX_ENTRIES`: lookups scan it.
    scan_instead: bool,
}

impl HostsIndex {
    /// The index of `text` (at most `u32::MAX` bytes: the hosts file is capped far
    /// below; lines past that are left out).
    pub fn build(text: &str) -> HostsIndex {
        let mut entries = Vec::new();
        let mut offset = 0usize;
        for raw in text.split_inclusive('\n') {
            let Ok(at) = u32::try_from(offset) else {
                return HostsIndex { entries: Vec::new(), scan_instead: true };
            };
            if let Some((_, words)) = hosts_line(without_line_end(raw)) {
                entries.extend(words.map(|w| (hosts_key(w.trim_end_matches('.')), at)));
                if entries.len() > MAX_HOSTS_INDEX_ENTRIES {
                    return HostsIndex { entries: Vec::new(), scan_instead: true };
                }
            }
            offset += raw.len();
        }
        entries.sort_unstable();
        entries.dedup();
        entries.shrink_to_fit();
        HostsIndex { entries, scan_instead: false }
    }

    /// What `hosts_lookup(text, name)` gives, for the `text` this index was built from:
    /// each line the index points at is read again and must name `name` (a key shared
    /// by another name finds nothing).
    pub fn lookup(&self, text: &str, name: &str) -> Vec<IpAddr> {
        if self.scan_instead {
            return hosts_lookup(text, name);
        }
        let key = hosts_key(name);
        let from = self.entries.partition_point(|&(k, _)| k < key);
        let mut out = Vec::new();
        // Seen addresses in a set: a name on many lines costs no more than linear.
        let mut seen = std::collections::HashSet::new();
        for &(_, at) in self.entries[from..].iter().take_while(|&&(k, _)| k == key) {
            let Some(line) = text.get(at as usize..).and_then(|rest| rest.split_inclusive('\n').next()) else {
                continue;
            };
            if let Some(addr) = hosts_line_answers(without_line_end(line), name) {
                if seen.insert(addr) {
                    out.push(addr);
                }
            }
        }
        out
    }
}

/// Addresses of type `qtype` answering `qname`, following CNAMEs inside the answer,
/// with their TTLs.
pub fn answer_addresses(msg: &Message, qname: &Name, qtype: RecordType) -> Vec<(IpAddr, u32)> {
    let mut current = qname.clone();
    let mut out = Vec::new();
    for _ in 0..=MAX_CNAME_HOPS {
        let mut next = None;
        for record in &msg.answers {
            if record.name != current {
                continue;
            }
            match (&record.data, qtype) {
                (RData::A(a), RecordType::A) => out.push((IpAddr::V4(a.0), ttl_of(record.ttl))),
                (RData::AAAA(a), RecordType::AAAA) => out.push((IpAddr::V6(a.0), ttl_of(record.ttl))),
                (RData::CNAME(c), _) => next = Some(c.0.clone()),
                _ => {}
            }
        }
        match next {
            Some(n) if out.is_empty() => current = n,
            _ => break,
        }
    }
    out
}

/// A TTL as RFC 2181 section 8 reads it: a value with the top bit set is treated as 0.
fn ttl_of(ttl: u32) -> u32 {
    if ttl > i32::MAX as u32 {
        0
    } else {
        ttl
    }
}

/// Whether `bytes` is the answer to our query: ID, QR, opcode and question match.
pub fn validate(bytes: &[u8], id: u16, qname: &Name, qtype: RecordType) -> Option<Message> {
    let msg = Message::from_vec(bytes).ok()?;
    if msg.metadata.id != id
        || msg.metadata.message_type != MessageType::Response
        || msg.metadata.op_code != OpCode::Query
    {
        return None;
    }
    match msg.queries.as_slice() {
        [q] if q.name() == qname && q.query_type() == qtype => Some(msg),
        _ => None,
    }
}

/// The A and the AAAA query for `qname` with IDs `ids`: one encoding, the second a copy
/// with its ID and question type set (the header's first two bytes, and the two bytes
/// after the question's name: the first name of a message, which has nothing earlier
/// to point at, so it is plain labels). Byte for byte what `build_query` makes of each
/// (a unit test holds them equal); anything else in the bytes (a compression pointer,
/// another type where A should be) is an error, on which the caller sends each query
/// the long way.
pub fn build_query_pair(ids: [u16; 2], qname: &Name) -> io::Result<[Vec<u8>; 2]> {
    let a = build_query(ids[0], qname, RecordType::A)?;
    let aaaa = aaaa_from_a(&a, ids[1])?;
    Ok([a, aaaa])
}

/// The AAAA query with ID `id` made from the A query's bytes (`build_query_pair`).
fn aaaa_from_a(a: &[u8], id: u16) -> io::Result<Vec<u8>> {
    let mut aaaa = a.to_vec();
    let unexpected = || io::Error::other("the A query is not laid out as expected");
    let mut at = HEADER_LEN;
    while let Some(&len) = aaaa.get(at).filter(|&&len| len != 0) {
        if len & 0xc0 != 0 {
            return Err(unexpected());
        }
        at += 1 + usize::from(len);
    }
    let qtype = aaaa.get_mut(at + 1..at + 3).ok_or_else(unexpected)?;
    if *qtype != u16::from(RecordType::A).to_be_bytes() {
        return Err(unexpected());
    }
    qtype.copy_from_slice(&u16::from(RecordType::AAAA).to_be_bytes());
    aaaa[..2].copy_from_slice(&id.to_be_bytes());
    Ok(aaaa)
}

/// The fixed DNS header (RFC 1035 4.1.1).
const HEADER_LEN: usize = 12;

pub fn build_query(id: u16, qname: &Name, qtype: RecordType) -> io::Result<Vec<u8>> {
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(qname.clone(), qtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_UDP_SIZE);
    msg.set_edns(edns);
    msg.to_vec().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// Fuzzing entry point (fuzz/fuzz_targets/dns_reply.rs): `bytes` arrive as the reply
/// to a pending query for a fixed name, once for A and once for AAAA. Each query gets
/// an ID the spoofer does not know; `validate` runs with it, then also with the ID the
/// bytes carry (what an off-path spoofer who guessed the ID would send), so that the
/// checks after the ID and `answer_addresses` are reached. Never panics.
#[doc(hidden)]
pub fn fuzz_reply(bytes: &[u8]) {
    let Ok(mut qname) = Name::from_ascii("host.example.com") else { return };
    qname.set_fqdn(true);
    for qtype in [RecordType::A, RecordType::AAAA] {
        // Any ID will do for the pending query; derive one from the input so that runs
        // are reproducible.
        let id = bytes.iter().fold(0x5a5au16, |h, b| h.rotate_left(5) ^ u16::from(*b));
        let _ = build_query(id, &qname, qtype);
        let mut ids = vec![id];
        if let [a, b, ..] = bytes {
            let guessed = u16::from_be_bytes([*a, *b]);
            if guessed != id {
                ids.push(guessed);
            }
        }
        for id in ids {
            if let Some(msg) = validate(bytes, id, &qname, qtype) {
                for (addr, _ttl) in answer_addresses(&msg, &qname, qtype) {
                    // Only addresses of the asked family may come out (checked when
                    // built with debug assertions, as cargo fuzz does).
                    debug_assert_eq!(addr.is_ipv4(), qtype == RecordType::A, "{addr} answered a {qtype:?} query");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
