//! A per-PvD cache of DNS answers (issue: performance; docs/name-translation.md,
//! "Cache"). An answer is kept for its TTL, per provisioning domain, never shared
//! across PvDs: a name may rightly have other addresses behind another network's
//! servers. An entry is only ever used while the PvD's DNS servers and search domains
//! are those it was answered through; when they change, the PvD's entries go. Only
//! positive answers are kept (a missing name is asked again). Pure: time is passed in.
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// TTLs above this are kept this long (as resolvers' "cache-max-ttl" defaults do), so a
/// wrong or hostile TTL cannot pin an answer for days.
pub const MAX_CACHED_TTL: u32 = 86_400;
/// Entries a context keeps unless the application says otherwise.
pub const DEFAULT_CACHE_ENTRIES: usize = 1024;

pub struct AnswerCache {
    capacity: usize,
    pvds: HashMap<u64, PvdAnswers>,
    len: usize,
}

/// The servers and domains a PvD's entries were answered through, and the entries.
struct PvdAnswers {
    servers: Vec<IpAddr>,
    domains: Vec<String>,
    names: HashMap<String, Entry>,
}

struct Entry {
    /// The name that answered (with a search domain, if one was added).
    answered: String,
    /// Each address with the moment its TTL runs out.
    addrs: Vec<(IpAddr, Instant)>,
    /// The earliest of those: the entry is used only before it.
    expires: Instant,
}

/// A cached answer, as of `now`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cached {
    pub answered: String,
    /// Each address with the whole seconds of TTL left (at least 1).
    pub addrs: Vec<(IpAddr, u32)>,
}

/// The key of a name as asked: DNS names compare case-insensitively, and "www" and
/// "www." try different names.
fn key(name: &str, absolute: bool) -> String {
    let mut k = name.to_ascii_lowercase();
    if absolute {
        k.push('.');
    }
    k
}

impl AnswerCache {
    /// `capacity` entries over all PvDs (at least 1).
    pub fn new(capacity: usize) -> AnswerCache {
        AnswerCache { capacity: capacity.max(1), pvds: HashMap::new(), len: 0 }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The PvD's entries, emptied first if its servers or domains changed.
    fn pvd_mut(&mut self, pvd: u64, servers: &[IpAddr], domains: &[String]) -> &mut PvdAnswers {
        let answers = self.pvds.entry(pvd).or_insert_with(|| PvdAnswers {
            servers: servers.to_vec(),
            domains: domains.to_vec(),
            names: HashMap::new(),
        });
        if answers.servers != servers || answers.domains != domains {
            self.len -= answers.names.len();
            answers.names.clear();
            answers.servers = servers.to_vec();
            answers.domains = domains.to_vec();
        }
        answers
    }

    /// The answer for `name` on `pvd`, if one is kept, was answered through these
    /// servers and domains, and no address of it has run out of TTL.
    pub fn get(
        &mut self,
        pvd: u64,
        servers: &[IpAddr],
        domains: &[String],
        name: &str,
        absolute: bool,
        now: Instant,
    ) -> Option<Cached> {
        let answers = self.pvd_mut(pvd, servers, domains);
        let k = key(name, absolute);
        let entry = answers.names.get(&k)?;
        if entry.expires <= now {
            answers.names.remove(&k);
            self.len -= 1;
            return None;
        }
        let left = |until: Instant| until.saturating_duration_since(now).as_secs().clamp(1, u64::from(u32::MAX)) as u32;
        Some(Cached {
            answered: entry.answered.clone(),
            addrs: entry.addrs.iter().map(|(a, t)| (*a, left(*t))).collect(),
        })
    }

    /// Keeps an answer: `addrs` with their TTLs in seconds. An answer with a TTL of 0
    /// (not to be cached, RFC 1035) or no address is not kept. When full, expired
    /// entries go first, then the one that would expire soonest.
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &mut self,
        pvd: u64,
        servers: &[IpAddr],
        domains: &[String],
        name: &str,
        absolute: bool,
        answered: &str,
        addrs: &[(IpAddr, u32)],
        now: Instant,
    ) {
        if addrs.is_empty() || addrs.iter().any(|(_, ttl)| *ttl == 0) {
            return;
        }
        let k = key(name, absolute);
        let replacing = self.pvd_mut(pvd, servers, domains).names.contains_key(&k);
        if !replacing && self.len >= self.capacity {
            self.make_room(now);
        }
        let addrs: Vec<(IpAddr, Instant)> = addrs
            .iter()
            .map(|(a, ttl)| (*a, now + Duration::from_secs(u64::from((*ttl).min(MAX_CACHED_TTL)))))
            .collect();
        let expires = addrs.iter().map(|(_, t)| *t).min().unwrap_or(now);
        let entry = Entry { answered: answered.to_string(), addrs, expires };
        if self.pvd_mut(pvd, servers, domains).names.insert(k, entry).is_none() {
            self.len += 1;
        }
    }

    /// Drops expired entries; if none was, the entry that expires soonest.
    fn make_room(&mut self, now: Instant) {
        let before = self.len;
        for answers in self.pvds.values_mut() {
            answers.names.retain(|_, e| e.expires > now);
        }
        self.len = self.pvds.values().map(|a| a.names.len()).sum();
        if self.len < before {
            return;
        }
        let soonest =
            self.pvds.iter().flat_map(|(pvd, a)| a.names.iter().map(move |(k, e)| (e.expires, *pvd, k.clone()))).min();
        if let Some((_, pvd, k)) = soonest {
            if let Some(a) = self.pvds.get_mut(&pvd) {
                a.names.remove(&k);
                self.len -= 1;
            }
        }
    }

    /// Forgets the PvDs that are gone.
    pub fn retain_pvds(&mut self, present: impl Fn(u64) -> bool) {
        self.pvds.retain(|pvd, _| present(*pvd));
        self.len = self.pvds.values().map(|a| a.names.len()).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The cache's answer for a name as one line: "answered: addr/ttl ..." or "miss".
    fn show(c: &mut AnswerCache, pvd: u64, servers: &[IpAddr], name: &str, now: Instant) -> String {
        match c.get(pvd, servers, &[], name, false, now) {
            None => "miss".into(),
            Some(hit) => {
                let addrs: Vec<String> = hit.addrs.iter().map(|(a, t)| format!("{a}/{t}")).collect();
                format!("{}: {}", hit.answered, addrs.join(" "))
            }
        }
    }

    #[test]
    fn an_answer_is_kept_for_its_ttl_with_the_ttl_counting_down() {
        let t0 = Instant::now();
        let s = [ip("198.51.100.1")];
        let mut c = AnswerCache::new(8);
        assert_eq!(show(&mut c, 1, &s, "www.example", t0), "miss");
        c.put(
            1,
            &s,
            &[],
            "www.example",
            false,
            "www.example",
            &[(ip("198.51.100.7"), 60), (ip("fd6d:6966::7"), 300)],
            t0,
        );
        assert_eq!(show(&mut c, 1, &s, "WWW.example", t0), "www.example: 198.51.100.7/60 fd6d:6966::7/300");
        let later = t0 + Duration::from_millis(20_500);
        assert_eq!(show(&mut c, 1, &s, "www.example", later), "www.example: 198.51.100.7/39 fd6d:6966::7/279");
        // The shortest TTL ends the entry: the whole answer is asked again.
        assert_eq!(show(&mut c, 1, &s, "www.example", t0 + Duration::from_secs(60)), "miss");
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn never_across_pvds_and_gone_when_servers_or_domains_change() {
        let t0 = Instant::now();
        let a = [ip("198.51.100.1")];
        let b = [ip("203.0.113.1")];
        let mut c = AnswerCache::new(8);
        c.put(1, &a, &[], "www.example", false, "www.example", &[(ip("198.51.100.7"), 60)], t0);
        assert_eq!(show(&mut c, 2, &a, "www.example", t0), "miss");
        assert_eq!(show(&mut c, 1, &b, "www.example", t0), "miss");
        // The servers changed (and back): the entry did not survive.
        assert_eq!(show(&mut c, 1, &a, "www.example", t0), "miss");
        c.put(1, &a, &[], "www", false, "www.corp.example", &[(ip("198.51.100.8"), 60)], t0);
        let corp = vec!["corp.example".to_string()];
        assert!(c.get(1, &a, &corp, "www", false, t0).is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn what_is_not_kept() {
        let t0 = Instant::now();
        let s = [ip("198.51.100.1")];
        let mut c = AnswerCache::new(8);
        c.put(1, &s, &[], "zero.example", false, "zero.example", &[(ip("198.51.100.7"), 0)], t0);
        c.put(1, &s, &[], "none.example", false, "none.example", &[], t0);
        assert_eq!(c.len(), 0);
        // "www." and "www" are different questions.
        c.put(1, &s, &[], "www", true, "www", &[(ip("198.51.100.7"), 60)], t0);
        assert_eq!(show(&mut c, 1, &s, "www", t0), "miss");
        assert!(c.get(1, &s, &[], "www", true, t0).is_some());
        // A day at most.
        c.put(1, &s, &[], "long.example", false, "long.example", &[(ip("198.51.100.9"), u32::MAX)], t0);
        assert_eq!(show(&mut c, 1, &s, "long.example", t0), "long.example: 198.51.100.9/86400");
    }

    #[test]
    fn full_drops_expired_then_the_soonest_to_expire() {
        let t0 = Instant::now();
        let s = [ip("198.51.100.1")];
        let mut c = AnswerCache::new(2);
        c.put(1, &s, &[], "a.example", false, "a.example", &[(ip("198.51.100.1"), 10)], t0);
        c.put(1, &s, &[], "b.example", false, "b.example", &[(ip("198.51.100.2"), 100)], t0);
        c.put(1, &s, &[], "c.example", false, "c.example", &[(ip("198.51.100.3"), 50)], t0);
        assert_eq!(c.len(), 2);
        assert_eq!(show(&mut c, 1, &s, "a.example", t0), "miss");
        c.put(1, &s, &[], "d.example", false, "d.example", &[(ip("198.51.100.4"), 50)], t0 + Duration::from_secs(60));
        // c expired by then and went; b stays.
        assert_eq!(show(&mut c, 1, &s, "b.example", t0 + Duration::from_secs(60)), "b.example: 198.51.100.2/40");
        assert_eq!(c.len(), 2);
        c.retain_pvds(|pvd| pvd != 1);
        assert!(c.is_empty());
    }
}
