//! Configuration files as text: the state files link managers keep per interface
//! (systemd-networkd, systemd-resolved, resolvconf fragments, dhcpcd), the operator's
//! static file and /etc/resolv.conf, parsed into configuration elements. Pure
//! functions, tested without files; `os::files` reads and watches the files.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::core::model::{ConfigData, ElementKind, LifetimeSecs, LinkRef, SourcedElement};
use crate::log::log_at;

/// Caps on what one file may contribute.
const MAX_SERVERS: usize = 32;
const MAX_DOMAINS: usize = 64;

/// Which format a directory's files have and what they mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirKind {
    /// systemd-networkd `/run/systemd/netif/links/<ifindex>`.
    NetworkdLink,
    /// systemd-networkd `/run/systemd/netif/leases/<ifindex>` (DHCPv4 leases).
    NetworkdLease,
    /// systemd-resolved per-link state `/run/systemd/resolve/netif/<ifindex>`.
    ResolvedLink,
    /// resolv.conf fragments named `<ifname>.<protocol>` (openresolv, Debian
    /// resolvconf).
    ResolvconfFragments,
    /// dhcpcd's hook state: resolv.conf fragments named `<ifname>.<protocol>` whose
    /// `dhcp` (`dhcp6`) ones have their lease in `/var/lib/dhcpcd/<ifname>.lease`
    /// (`.lease6`).
    DhcpcdHookState,
}

/// Directories under the root, with what their files mean (docs/configuration.md).
pub const STATE_DIRS: &[(&str, DirKind)] = &[
    ("run/systemd/netif/links", DirKind::NetworkdLink),
    ("run/systemd/netif/leases", DirKind::NetworkdLease),
    ("run/systemd/resolve/netif", DirKind::ResolvedLink),
    ("run/resolvconf/interfaces", DirKind::ResolvconfFragments),
    ("run/resolvconf/interface", DirKind::ResolvconfFragments),
    ("run/dhcpcd/hook-state/resolv.conf", DirKind::DhcpcdHookState),
];

/// A DNS server as written in state files: `198.51.100.1`, `fd6d::1%eth0`,
/// `[fd6d::1]:53`, `198.51.100.1:53`, `198.51.100.1#dns.example`.
fn parse_server(word: &str) -> Option<IpAddr> {
    let word = word.split('#').next()?;
    let word = word.split('%').next()?;
    if let Some(rest) = word.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = word.parse() {
        return Some(ip);
    }
    // IPv4 with a port.
    let (host, port) = word.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// A search domain, lowercased, without a trailing dot; `None` for anything that is
/// not a plausible domain name (RFC 1035 lengths, printable, no spaces).
fn parse_domain(word: &str) -> Option<String> {
    let d = word.trim_end_matches('.');
    if d.is_empty() || d.len() > 253 || d == "~" {
        return None;
    }
    if d.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    if !d.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || !c.is_ascii()) {
        return None;
    }
    Some(d.to_ascii_lowercase())
}

fn push_server(data: &mut ConfigData, word: &str) {
    match parse_server(word) {
        Some(ip) if data.dns_servers.len() < MAX_SERVERS && !data.dns_servers.contains(&ip) => {
            data.dns_servers.push(ip)
        }
        Some(_) => {}
        None => log_at!(Debug, "ignored DNS server {word:?}"),
    }
}

fn push_domain(data: &mut ConfigData, word: &str) {
    match parse_domain(word) {
        Some(d) if data.search_domains.len() < MAX_DOMAINS && !data.search_domains.contains(&d) => {
            data.search_domains.push(d)
        }
        Some(_) => {}
        None => log_at!(Debug, "ignored search domain {word:?}"),
    }
}

/// resolv.conf(5): `nameserver`, `search`, `domain`; everything else is ignored.
pub fn parse_resolv_conf(text: &str) -> ConfigData {
    let mut data = ConfigData::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(w) = words.next() {
                    push_server(&mut data, w);
                }
            }
            // The last search/domain line wins, as in the resolver.
            Some("search") | Some("domain") => {
                data.search_domains.clear();
                for w in words {
                    push_domain(&mut data, w);
                }
            }
            _ => {}
        }
    }
    data
}

/// `KEY=VALUE` lines, as systemd writes its state files.
fn env_lines(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// systemd-networkd's per-link state: `DNS=`, `DOMAINS=`.
pub fn parse_networkd_link(text: &str) -> ConfigData {
    let vars = env_lines(text);
    let mut data = ConfigData::default();
    for w in vars.get("DNS").copied().unwrap_or("").split_whitespace() {
        push_server(&mut data, w);
    }
    for w in vars.get("DOMAINS").copied().unwrap_or("").split_whitespace() {
        push_domain(&mut data, w);
    }
    data
}

/// systemd-networkd's DHCPv4 lease: `DNS=`, `DOMAINNAME=`, `DOMAIN_SEARCH_LIST=`,
/// `ROUTER=`, `MTU=`, `SERVER_ADDRESS=`.
pub fn parse_networkd_lease(text: &str) -> (ConfigData, Option<IpAddr>) {
    let vars = env_lines(text);
    let mut data = ConfigData::default();
    for w in vars.get("DNS").copied().unwrap_or("").split_whitespace() {
        push_server(&mut data, w);
    }
    for key in ["DOMAIN_SEARCH_LIST", "DOMAINNAME"] {
        for w in vars.get(key).copied().unwrap_or("").split_whitespace() {
            push_domain(&mut data, w);
        }
    }
    for w in vars.get("ROUTER").copied().unwrap_or("").split_whitespace() {
        if let Ok(ip) = w.parse::<IpAddr>() {
            if !data.routers.contains(&ip) {
                data.routers.push(ip);
            }
        }
    }
    data.mtu = vars.get("MTU").and_then(|m| m.parse().ok()).filter(|m| *m >= 68);
    let server = vars.get("SERVER_ADDRESS").and_then(|s| s.parse().ok());
    (data, server)
}

/// systemd-resolved's per-link state: `SERVERS=`, `DOMAINS=` (routing-only `~domains`
/// are not search domains and are skipped).
pub fn parse_resolved_link(text: &str) -> ConfigData {
    let vars = env_lines(text);
    let mut data = ConfigData::default();
    for w in vars.get("SERVERS").copied().unwrap_or("").split_whitespace() {
        push_server(&mut data, w);
    }
    for w in vars.get("DOMAINS").copied().unwrap_or("").split_whitespace() {
        if !w.starts_with('~') {
            push_domain(&mut data, w);
        }
    }
    data
}

/// The element type a resolv.conf fragment's protocol suffix means.
pub fn fragment_kind(protocol: &str) -> ElementKind {
    match protocol {
        "dhcp" | "dhcp4" | "dhclient" | "udhcpc" => ElementKind::Dhcpv4,
        "dhcp6" | "dhclient6" => ElementKind::Dhcpv6,
        "ra" | "slaac" => ElementKind::Ra,
        _ => ElementKind::Static,
    }
}

/// The operator's hooks (docs/connectivity.md), keys of the static file before its
/// first `[interface]` section:
/// ```text
/// want_connect_hook = /usr/local/sbin/bring-networks-up
/// idle_hook = /usr/local/sbin/links-idle
/// hook_timeout_ms = 10000
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hooks {
    pub want_connect: Option<String>,
    pub idle: Option<String>,
    pub timeout: Duration,
}

/// How long a hook may run before it is killed, unless the file says otherwise.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys of the static file that are not an interface's.
const HOOK_KEYS: [&str; 3] = ["want_connect_hook", "idle_hook", "hook_timeout_ms"];

/// The hooks the static file names (before its first section). A hook path must be
/// absolute (it is run as written, without a shell); anything else is ignored with a
/// log line. A timeout outside 100 ms to 10 min is ignored too.
pub fn parse_static_hooks(text: &str) -> Hooks {
    let mut hooks = Hooks { want_connect: None, idle: None, timeout: DEFAULT_HOOK_TIMEOUT };
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            break;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim();
        let path = || {
            let ok = value.starts_with('/') && !value.contains(char::is_whitespace);
            if !ok {
                log_at!(Warn, "static config line {}: hook {value:?} is not an absolute path, ignored", number + 1);
            }
            ok.then(|| value.to_string())
        };
        match key.trim() {
            "want_connect_hook" => hooks.want_connect = path(),
            "idle_hook" => hooks.idle = path(),
            "hook_timeout_ms" => match value.parse::<u64>() {
                Ok(ms) if (100..=600_000).contains(&ms) => hooks.timeout = Duration::from_millis(ms),
                _ => log_at!(Warn, "static config line {}: hook_timeout_ms {value:?} ignored", number + 1),
            },
            _ => {}
        }
    }
    hooks
}

/// The operator's static file (docs/configuration.md):
/// ```text
/// [eth0]
/// dns = 198.51.100.53 fd6d:6966:a::53
/// search = a.example
/// routers = 198.51.100.1
/// mtu = 1400
/// ```
pub fn parse_static_config(text: &str) -> Vec<SourcedElement> {
    let mut out: Vec<SourcedElement> = Vec::new();
    // Whether keys belong to the last pushed section (false after a bad header).
    let mut in_section = false;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            if name.is_empty() || name.len() > 15 || name.contains(['/', ' ']) {
                log_at!(Warn, "static config line {}: bad interface name {name:?}", number + 1);
                in_section = false;
                continue;
            }
            in_section = true;
            out.push(SourcedElement {
                link: LinkRef::Name(name.to_string()),
                kind: ElementKind::Static,
                server: None,
                data: ConfigData::default(),
                lifetime: None,
                lease_address: None,
                configuring: false,
                besides_heard_ra: false,
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            log_at!(Warn, "static config line {}: expected key = value", number + 1);
            continue;
        };
        let Some(current) = out.last_mut().filter(|_| in_section) else {
            // The hooks' keys come before the first section (`parse_static_hooks`).
            if out.is_empty() && HOOK_KEYS.contains(&key.trim()) {
                continue;
            }
            log_at!(Warn, "static config line {}: outside an [interface] section", number + 1);
            continue;
        };
        let data = &mut current.data;
        match key.trim() {
            "dns" => value.split_whitespace().for_each(|w| push_server(data, w)),
            "search" => value.split_whitespace().for_each(|w| push_domain(data, w)),
            "routers" => {
                for w in value.split_whitespace() {
                    match w.parse::<IpAddr>() {
                        Ok(ip) if !data.routers.contains(&ip) => data.routers.push(ip),
                        Ok(_) => {}
                        Err(_) => log_at!(Warn, "static config line {}: bad router {w:?}", number + 1),
                    }
                }
            }
            "mtu" => data.mtu = value.trim().parse().ok().filter(|m| (68..=65535).contains(m)),
            other => log_at!(Warn, "static config line {}: unknown key {other:?}", number + 1),
        }
    }
    out.retain(|e| !e.data.is_empty());
    out
}

/// Seconds left of a systemd-networkd DHCPv4 lease whose file names no address: its
/// `LIFETIME=` (the lease's whole time, from when networkd wrote the file) less the
/// file's age (networkd may renew without rewriting an unchanged file, so this is a
/// lower bound);
/// 0 once over (the element is then withdrawn). `None` (until withdrawn) without a
/// `LIFETIME=` or with one that is not a number; values past `u32` are clamped to the
/// longest finite lifetime.
pub fn networkd_lease_lifetime(text: &str, age: Duration) -> Option<u32> {
    let raw = env_lines(text).get("LIFETIME").copied()?;
    let Ok(lifetime) = raw.trim().parse::<u64>() else {
        log_at!(Warn, "networkd lease: LIFETIME={raw:?} is not a number of seconds, ignored");
        return None;
    };
    let left = lifetime.saturating_sub(age.as_secs());
    Some(u32::try_from(left).unwrap_or(u32::MAX - 1).min(u32::MAX - 1))
}

/// Another file that a state file names, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelatedFile {
    pub bytes: Vec<u8>,
    /// How long ago it was written.
    pub age: Duration,
}

impl RelatedFile {
    /// A file just written.
    pub fn new(bytes: impl Into<Vec<u8>>) -> RelatedFile {
        RelatedFile { bytes: bytes.into(), age: Duration::ZERO }
    }

    /// Its text (lossy UTF-8, as every text file is read).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Reads another file that a state file names (by the path written in it, or, for
/// dhcpcd's leases, the path its name implies); the OS layer reads it under the root
/// directory. `None`: no such file, or unreadable.
pub type Related<'a> = &'a dyn Fn(&str) -> Option<RelatedFile>;

/// The DNS servers and search domains a systemd `.network` file declares in its
/// `[Network]` section (`DNS=` and `Domains=` lines, each repeatable; routing-only
/// `~domains` skipped).
pub fn parse_network_file(text: &str) -> ConfigData {
    let mut data = ConfigData::default();
    let mut in_network = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_network = line.eq_ignore_ascii_case("[Network]");
            continue;
        }
        let Some((key, value)) = line.split_once('=').filter(|_| in_network && !line.starts_with(['#', ';'])) else {
            continue;
        };
        match key.trim() {
            "DNS" => value.split_whitespace().for_each(|w| push_server(&mut data, w)),
            "Domains" => {
                value.split_whitespace().filter(|w| !w.starts_with('~')).for_each(|w| push_domain(&mut data, w))
            }
            _ => {}
        }
    }
    data
}

/// The elements of a systemd-networkd per-link state file. Its `DNS=` merges every
/// source, so the sources are worked out from the other files it names: what the
/// `.network` file (`NETWORK_FILE=`) declares is `static`; what the DHCPv4 lease
/// (`DHCP_LEASE=`) gives belongs to the lease's own `dhcpv4` element and is left out
/// here; the IPv6 servers and domains left are what networkd learned from the network
/// itself, by RA or by DHCPv6: its files do not say which (252 writes no DHCPv6
/// lease), so they form one element marked `besides_heard_ra`, from which the model
/// leaves out what an RA the library heard itself on the link lists (that RA's `ra`
/// element has it). It is `dhcpv6` when networkd runs a DHCPv6 client on the link
/// (`DHCP6_CLIENT_IAID=`), else `ra`. Without a readable `.network` file, everything
/// not from the lease is `static`, as before.
fn networkd_link_elements(link: LinkRef, text: &str, related: Related) -> Vec<SourcedElement> {
    let vars = env_lines(text);
    let all = parse_networkd_link(text);
    let declared = vars.get("NETWORK_FILE").and_then(|p| related(p)).map(|f| parse_network_file(&f.text()));
    let leased =
        vars.get("DHCP_LEASE").and_then(|p| related(p)).map(|f| parse_networkd_lease(&f.text()).0).unwrap_or_default();
    let mut stat = ConfigData::default();
    let mut learned = ConfigData::default();
    for server in all.dns_servers {
        match &declared {
            Some(d) if d.dns_servers.contains(&server) => stat.dns_servers.push(server),
            _ if leased.dns_servers.contains(&server) => {} // the lease element's
            None => stat.dns_servers.push(server),
            // networkd learns IPv4 servers only by DHCPv4: one in neither file is the
            // operator's somehow (a drop-in, say).
            Some(_) if server.is_ipv4() => stat.dns_servers.push(server),
            Some(_) => learned.dns_servers.push(server),
        }
    }
    for domain in all.search_domains {
        match &declared {
            Some(d) if d.search_domains.contains(&domain) => stat.search_domains.push(domain),
            _ if leased.search_domains.contains(&domain) => {}
            None => stat.search_domains.push(domain),
            Some(_) => learned.search_domains.push(domain),
        }
    }
    let configuring = networkd_configuring(text);
    let element = |kind, data: ConfigData| SourcedElement {
        link: link.clone(),
        kind,
        server: None,
        data,
        lifetime: None,
        lease_address: None,
        configuring,
        besides_heard_ra: kind != ElementKind::Static,
    };
    let learned_kind = if vars.contains_key("DHCP6_CLIENT_IAID") { ElementKind::Dhcpv6 } else { ElementKind::Ra };
    let mut out: Vec<SourcedElement> = [element(ElementKind::Static, stat), element(learned_kind, learned)]
        .into_iter()
        .filter(|e| !e.data.is_empty())
        .collect();
    // While configuring there is often nothing else to say yet: the state rides alone.
    if configuring && out.is_empty() {
        out.push(element(ElementKind::Static, ConfigData::default()));
    }
    out
}

/// Whether systemd-networkd's per-link state says it is still bringing the link up:
/// `ADMIN_STATE=` `pending` (waiting for udev), `initialized` or `configuring`.
pub fn networkd_configuring(text: &str) -> bool {
    matches!(env_lines(text).get("ADMIN_STATE").copied(), Some("pending" | "initialized" | "configuring"))
}

/// What a file in a state directory says, as elements. `age`: how long ago the file
/// was written (a lease's lifetime counts from then); `related` reads the files it names.
pub fn dir_file_elements(
    kind: DirKind,
    name: &str,
    text: &str,
    age: Duration,
    related: Related,
) -> Vec<SourcedElement> {
    let by_index = || name.parse::<u32>().ok().map(LinkRef::Index);
    let element = |link, kind, server, data: ConfigData| {
        if data.is_empty() {
            vec![]
        } else {
            vec![SourcedElement {
                link,
                kind,
                server,
                data,
                lifetime: None,
                lease_address: None,
                configuring: false,
                besides_heard_ra: false,
            }]
        }
    };
    match kind {
        DirKind::NetworkdLink => match by_index() {
            Some(link) => networkd_link_elements(link, text, related),
            None => vec![],
        },
        DirKind::NetworkdLease => match by_index() {
            Some(link) => {
                let (data, server) = parse_networkd_lease(text);
                let mut elements = element(link, ElementKind::Dhcpv4, server, data);
                if let Some(e) = elements.first_mut() {
                    // The leased address carries the lease's true remaining time (networkd
                    // renews it in the kernel even when it leaves the file untouched);
                    // LIFETIME less the file's age only when the file names no address.
                    e.lease_address = env_lines(text).get("ADDRESS").and_then(|a| a.parse().ok());
                    if e.lease_address.is_none() {
                        e.lifetime = networkd_lease_lifetime(text, age);
                    }
                }
                elements
            }
            None => vec![],
        },
        DirKind::ResolvedLink => match by_index() {
            Some(link) => element(link, ElementKind::Static, None, parse_resolved_link(text)),
            None => vec![],
        },
        DirKind::ResolvconfFragments => match name.rsplit_once('.') {
            Some((ifname, protocol)) if !ifname.is_empty() => {
                element(LinkRef::Name(ifname.to_string()), fragment_kind(protocol), None, parse_resolv_conf(text))
            }
            _ => vec![],
        },
        DirKind::DhcpcdHookState => match name.rsplit_once('.') {
            Some((ifname, protocol)) if !ifname.is_empty() => {
                let link = LinkRef::Name(ifname.to_string());
                let mut elements = element(link, fragment_kind(protocol), None, parse_resolv_conf(text));
                if let Some(e) = elements.first_mut() {
                    (e.lease_address, e.lifetime) = dhcpcd_lease_of(ifname, protocol, related);
                }
                elements
            }
            _ => vec![],
        },
    }
}

/// What the lease file of dhcpcd's fragment `<ifname>.<protocol>` gives its element,
/// as `(lease_address, lifetime)`: the address the lease names (the element then
/// lives as long as that address on the link: dhcpcd adds it with the lease's
/// lifetimes and renews them), or, without an address, the lease's time less the
/// file's age (dhcpcd rewrites the file at each renewal and its stock resolv.conf hook
/// rewrites the fragment right after, so the fragment is read again then). Without a
/// lease file, or with one refused (logged), neither: the element lives until the
/// fragment goes, as before.
fn dhcpcd_lease_of(ifname: &str, protocol: &str, related: Related) -> (Option<IpAddr>, LifetimeSecs) {
    let Some((path, v6)) = dhcpcd_lease_path(ifname, protocol) else { return (None, None) };
    let Some(file) = related(&path) else {
        log_at!(Debug, "dhcpcd fragment {ifname}.{protocol}: no lease file {path}");
        return (None, None);
    };
    match parse_dhcpcd_lease(&file.bytes, v6) {
        Ok(lease @ DhcpcdLease { address: Some(address), .. }) => {
            log_at!(Debug, "dhcpcd lease {path}: {address}, {:?} s", lease.seconds);
            (Some(address), None)
        }
        Ok(lease) => (None, dhcpcd_lease_left(&lease, file.age)),
        Err(refusal) => {
            log_at!(Warn, "dhcpcd lease {path} refused: {refusal}");
            (None, None)
        }
    }
}

mod dhcpcd;
pub use dhcpcd::{dhcpcd_lease_left, dhcpcd_lease_path, parse_dhcpcd_lease, DhcpcdLease, MIN_LEASE_SECS};

mod fuzz;
pub use fuzz::{fuzz_dhcpcd_lease, fuzz_state_files};

#[cfg(test)]
mod tests;
