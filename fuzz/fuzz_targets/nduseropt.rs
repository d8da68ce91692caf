//! Fuzz target: RTM_NEWNDUSEROPT payloads (the bytes after the netlink header).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mif::ndopt::{parse_nduseropt, parse_nlmsg, NdOption};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_nduseropt(data) {
        // Invariants the parser promises on success.
        assert!(m.ifindex > 0);
        match &m.option {
            NdOption::Rdnss { servers, .. } => assert!(!servers.is_empty()),
            NdOption::Dnssl { domains, .. } => {
                assert!(!domains.is_empty());
                for d in domains {
                    assert!(!d.is_empty() && d.len() <= 253, "{d:?}");
                    assert!(!d.ends_with('.'), "{d:?}");
                    assert!(d
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)));
                }
            }
            NdOption::Other { kind, data } => {
                assert_eq!(data.first(), Some(kind));
                assert_eq!(data.len(), usize::from(data[1]) * 8);
            }
            _ => {}
        }
    }
    // The same bytes read as a whole netlink message (header included).
    let _ = parse_nlmsg(data);
});
