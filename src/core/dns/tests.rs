//! Unit tests of the DNS pieces that need no network: names, hosts file, answers.
use super::*;
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::Record;

#[test]
fn names_are_checked_and_idna_encoded() {
    assert_eq!(QueryName::parse("host.example.com").unwrap().ascii, "host.example.com");
    assert_eq!(QueryName::parse("bücher.example").unwrap().ascii, "xn--bcher-kva.example");
    assert!(QueryName::parse("example.com.").unwrap().absolute);
    assert!(QueryName::parse("").is_none());
    assert!(QueryName::parse(".").is_none());
    assert!(QueryName::parse("a..b").is_none());
    assert!(QueryName::parse("a.example..").is_none());
    assert!(QueryName::parse(&format!("{}.example", "a".repeat(64))).is_none());
    // A leading hyphen is refused either way.
    assert!(QueryName::parse("-a.example").is_none());
    assert!(QueryName::parse(&format!("{}.example", "a".repeat(63))).is_some());
    let long = vec!["abcdefghi"; 26].join(".");
    assert!(long.len() > 253);
    assert!(QueryName::parse(&long).is_none());
}

#[test]
fn search_domains_for_single_labels_and_dotted_names() {
    let search = vec!["a.example".to_string(), "b.example".to_string()];
    assert_eq!(QueryName::parse("host").unwrap().candidates(&search), vec!["host.a.example", "host.b.example"]);
    assert_eq!(QueryName::parse("host").unwrap().candidates(&[]), vec!["host"]);
    assert_eq!(
        QueryName::parse("www.corp").unwrap().candidates(&search),
        vec!["www.corp", "www.corp.a.example", "www.corp.b.example"]
    );
    assert_eq!(QueryName::parse("www.corp.").unwrap().candidates(&search), vec!["www.corp"]);
}

#[test]
fn hosts_file_lookup() {
    let hosts =
        "127.0.0.1 localhost\n# comment\n198.51.100.7  printer.example printer # office\nfe80::1%eth0 router.lan\n\
                 198.51.100.8 PRINTER.example\nnot-an-address printer.example\n";
    assert_eq!(
        hosts_lookup(hosts, "printer.example"),
        vec!["198.51.100.7".parse::<IpAddr>().unwrap(), "198.51.100.8".parse().unwrap()]
    );
    assert_eq!(hosts_lookup(hosts, "router.lan"), vec!["fe80::1".parse::<IpAddr>().unwrap()]);
    assert!(hosts_lookup(hosts, "nothing.example").is_empty());
}

/// The index finds exactly what the whole-text scan finds, in the same order, for
/// every word of the text and for names that are not there: comments, scopes, CRLF
/// and lone CRs, trailing dots, case, duplicates, a last line with no ending, words
/// that are not ASCII, lines that are not entries.
#[test]
fn the_hosts_index_finds_what_the_scan_finds() {
    let texts = [
        "",
        "\n\n",
        "127.0.0.1 localhost\n# comment\n198.51.100.7  printer.example printer # office\nfe80::1%eth0 router.lan\n\
         198.51.100.8 PRINTER.example\nnot-an-address printer.example\n",
        "198.51.100.1 a.example. A.EXAMPLE a.example\r\n198.51.100.2 a.example\r\r\n198.51.100.1 a.example\n",
        "198.51.100.3 b.example\r198.51.100.4 c.example\n198.51.100.5\tb.example\t# b.example\n#198.51.100.6 b.example",
        "198.51.100.9 bücher.example BÜCHER.example xn--bcher-kva.example\n198.51.100.10 .\n198.51.100.11 ..\n",
        "  198.51.100.12   spaced.example  \n198.51.100.13 last.example",
        "fd6d:6966::1 six.example\nfd6d:6966::1 six.example SIX.example.\n198.51.100.14 six.example\n",
    ];
    let mut generated = String::new();
    for i in 0..800u32 {
        let host = format!("h{}.example", i % 300);
        generated.push_str(&format!("198.51.{}.{} {} alias{}.example\n", 100 + (i / 250) % 4, i % 250, host, i % 13));
        if i % 97 == 0 {
            generated.push_str("# a comment h1.example\r\n");
        }
    }
    for text in texts.iter().copied().chain([generated.as_str()]) {
        let index = HostsIndex::build(text);
        let mut names: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        names.extend(
            ["nothing.example", "", ".", "a.example.", "PRINTER.EXAMPLE", "b.example\r", "Bücher.example"]
                .map(String::from),
        );
        for name in &names {
            assert_eq!(index.lookup(text, name), hosts_lookup(text, name), "{name:?} in {text:?}");
        }
    }
}

/// A text naming more than the index holds is scanned instead, with the same answers.
#[test]
fn a_hosts_text_of_too_many_names_is_scanned() {
    let words = MAX_HOSTS_INDEX_ENTRIES / 4 + 1;
    let mut text = String::with_capacity(words * 4 * 3 + 64);
    text.push_str("198.51.100.1 first.example\n");
    for line in 0..4 {
        text.push_str(&format!("198.51.100.{} ", line + 2));
        for i in 0..words {
            text.push_str(&format!("{} ", i % 1000));
        }
        text.push('\n');
    }
    text.push_str("198.51.100.9 last.example FIRST.example\n");
    let index = HostsIndex::build(&text);
    assert!(index.scan_instead && index.entries.is_empty());
    for name in ["first.example", "last.example", "7", "nothing.example"] {
        assert_eq!(index.lookup(&text, name), hosts_lookup(&text, name), "{name}");
    }
    assert_eq!(index.lookup(&text, "first.example").len(), 2);
}

fn name(s: &str) -> Name {
    let mut n = Name::from_ascii(s).unwrap();
    n.set_fqdn(true);
    n
}

fn response(id: u16, q: &str, qtype: RecordType) -> Message {
    let mut m = Message::new(id, MessageType::Response, OpCode::Query);
    m.add_query(Query::query(name(q), qtype));
    m
}

#[test]
fn cname_chains_are_followed_inside_the_answer() {
    let mut m = response(7, "www.example.com", RecordType::A);
    m.add_answer(Record::from_rdata(name("www.example.com"), 300, RData::CNAME(CNAME(name("edge.example.net")))));
    m.add_answer(Record::from_rdata(name("edge.example.net"), 60, RData::A(A("198.51.100.5".parse().unwrap()))));
    m.add_answer(Record::from_rdata(name("unrelated.example"), 60, RData::A(A("198.51.100.6".parse().unwrap()))));
    let got = answer_addresses(&m, &name("WWW.example.com"), RecordType::A);
    assert_eq!(got, vec![("198.51.100.5".parse().unwrap(), 60)]);
    // AAAA asked: A records do not count.
    assert!(answer_addresses(&m, &name("www.example.com"), RecordType::AAAA).is_empty());
    let mut m6 = response(8, "host.example.com", RecordType::AAAA);
    m6.add_answer(Record::from_rdata(
        name("host.example.com"),
        30,
        RData::AAAA(AAAA("2001:192:321::1".parse().unwrap())),
    ));
    assert_eq!(answer_addresses(&m6, &name("host.example.com"), RecordType::AAAA).len(), 1);
}

#[test]
fn only_the_matching_reply_is_accepted() {
    let q = name("host.example.com");
    let good = response(0x1234, "host.example.com", RecordType::A).to_vec().unwrap();
    assert!(validate(&good, 0x1234, &q, RecordType::A).is_some());
    assert!(validate(&good, 0x1235, &q, RecordType::A).is_none(), "wrong ID");
    assert!(validate(&good, 0x1234, &q, RecordType::AAAA).is_none(), "wrong type");
    assert!(validate(&good, 0x1234, &name("other.example.com"), RecordType::A).is_none(), "wrong name");
    let query = build_query(0x1234, &q, RecordType::A).unwrap();
    assert!(validate(&query, 0x1234, &q, RecordType::A).is_none(), "QR bit clear: a query, not a reply");
    assert!(validate(&good[..good.len() - 3], 0x1234, &q, RecordType::A).is_none(), "truncated");
    assert!(validate(&[], 0x1234, &q, RecordType::A).is_none());
}

#[test]
fn queries_carry_edns_with_1232_bytes_and_rd() {
    let bytes = build_query(42, &name("a.example"), RecordType::AAAA).unwrap();
    let m = Message::from_vec(&bytes).unwrap();
    assert!(m.metadata.recursion_desired);
    assert_eq!(m.edns.as_ref().map(|e| e.max_payload()), Some(1232));
    assert_eq!(m.queries.len(), 1);
}

#[test]
fn escaped_dots_and_backslashes_are_refused() {
    assert!(QueryName::parse("a\\.b.example").is_none());
    assert!(QueryName::parse("host\\065.example").is_none());
    assert!(QueryName::parse("a.b.example").is_some());
}

#[test]
fn ttls_with_the_top_bit_set_read_as_zero() {
    let mut m = response(9, "host.example.com", RecordType::A);
    m.add_answer(Record::from_rdata(
        name("host.example.com"),
        0x8000_0001,
        RData::A(A("198.51.100.5".parse().unwrap())),
    ));
    m.add_answer(Record::from_rdata(
        name("host.example.com"),
        0x7fff_ffff,
        RData::A(A("198.51.100.6".parse().unwrap())),
    ));
    let got = answer_addresses(&m, &name("host.example.com"), RecordType::A);
    assert_eq!(got, vec![("198.51.100.5".parse().unwrap(), 0), ("198.51.100.6".parse().unwrap(), 0x7fff_ffff)]);
}

#[test]
fn replies_captured_from_dnsmasq() {
    // fuzz/seeds/dns_reply: dnsmasq's replies to A (ID 0x1234) and AAAA (ID 0x4321)
    // queries for host.example.com, captured in a private network namespace.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/dns_reply");
    let mut qname = Name::from_ascii("host.example.com").unwrap();
    qname.set_fqdn(true);
    let answers = |file: &str, id, qtype| {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        fuzz_reply(&bytes);
        let msg = validate(&bytes, id, &qname, qtype).unwrap();
        let mut got: Vec<String> = answer_addresses(&msg, &qname, qtype).iter().map(|(a, _)| a.to_string()).collect();
        got.sort();
        got
    };
    assert_eq!(answers("dnsmasq-host-a.bin", 0x1234, RecordType::A), ["198.51.100.7"]);
    assert_eq!(answers("dnsmasq-host-aaaa.bin", 0x4321, RecordType::AAAA), ["fd6d:6966:a::7"]);
    assert_eq!(answers("dnsmasq-two-a.bin", 0x1234, RecordType::A), ["198.51.100.7", "198.51.100.8"]);
    assert_eq!(answers("dnsmasq-cname-a.bin", 0x1234, RecordType::A), ["198.51.100.9"]);
    assert_eq!(answers("dnsmasq-cname-aaaa.bin", 0x4321, RecordType::AAAA), ["fd6d:6966:a::9"]);
    assert!(answers("dnsmasq-nxdomain-a.bin", 0x1234, RecordType::A).is_empty());
    assert!(answers("dnsmasq-v4only-aaaa.bin", 0x4321, RecordType::AAAA).is_empty());
    // Not the pending query's: another ID, or the other type.
    let bytes = std::fs::read(dir.join("dnsmasq-host-a.bin")).unwrap();
    assert!(validate(&bytes, 0x1235, &qname, RecordType::A).is_none());
    assert!(validate(&bytes, 0x1234, &qname, RecordType::AAAA).is_none());
}

#[test]
fn an_address_is_a_literal_name() {
    let v4 = QueryName::parse("198.51.100.7").unwrap();
    assert_eq!(
        (v4.literal, v4.ascii.as_str(), v4.absolute),
        (Some("198.51.100.7".parse().unwrap()), "198.51.100.7", false)
    );
    let v6 = QueryName::parse("fd6d:6966:0::1").unwrap();
    assert_eq!((v6.literal, v6.ascii.as_str()), (Some("fd6d:6966::1".parse().unwrap()), "fd6d:6966::1"));
    // With a trailing dot it is a name (all-numeric labels), looked up as such.
    assert_eq!(QueryName::parse("198.51.100.7.").unwrap().literal, None);
    assert_eq!(QueryName::parse("www.example.com").unwrap().literal, None);
}

#[test]
fn plain_names_skip_idna_with_the_same_result() {
    // Every name the shortcut takes, IDNA returns unchanged; what it does not take
    // (capitals, punycode, other characters) still goes through IDNA.
    let labels = ["a", "host", "h00126", "0", "123", "a-", "a--b", "ab--cd", "x-n", "xn-", "xn", &"a".repeat(63)];
    let same_either_way = |text: &str| {
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        assert!(is_plain_ldh(trimmed), "{text}");
        assert_eq!(QueryName::parse(text), QueryName::through_idna(text, trimmed), "{text}");
    };
    for first in labels {
        same_either_way(first);
        same_either_way(&format!("{first}."));
        for second in labels {
            for tail in ["", ".example", ".example.com"] {
                for dot in ["", "."] {
                    same_either_way(&format!("{first}.{second}{tail}{dot}"));
                }
            }
        }
    }
    // The length limit on both sides of it: 253 octets pass, 254 do not.
    let label63 = "a".repeat(63);
    let at_limit = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
    assert_eq!(at_limit.len(), 253);
    same_either_way(&at_limit);
    assert!(QueryName::parse(&at_limit).is_some());
    let over = format!("{at_limit}b");
    same_either_way(&over);
    assert!(QueryName::parse(&over).is_none());
    for text in
        ["Host.example", "xn--bcher-kva.example", "a.xn--bcher-kva", "bücher.example", "a_b.example", "a b", "-a.b"]
    {
        assert!(!is_plain_ldh(text.strip_suffix('.').unwrap_or(text)), "{text}");
    }
    assert_eq!(QueryName::parse("Host.Example").unwrap().ascii, "host.example");
    assert_eq!(QueryName::parse("xn--bcher-kva.example").unwrap().ascii, "xn--bcher-kva.example");
    // The limits hold on the shortcut too.
    assert!(QueryName::parse(&format!("{}.example", "a".repeat(64))).is_none());
    // A leading hyphen is refused either way.
    assert!(QueryName::parse("-a.example").is_none());
    assert_eq!(QueryName::through_idna("-a.example", "-a.example"), None);
}

#[test]
fn the_query_pair_is_two_queries_built_alone() {
    for text in ["a", "host.example.com", "h00126.bench.test", &format!("{}.example", "a".repeat(63))] {
        let mut qname = Name::from_ascii(text).unwrap();
        qname.set_fqdn(true);
        let [a, aaaa] = build_query_pair([0x1234, 0xfedc], &qname).unwrap();
        assert_eq!(a, build_query(0x1234, &qname, RecordType::A).unwrap(), "{text}");
        assert_eq!(aaaa, build_query(0xfedc, &qname, RecordType::AAAA).unwrap(), "{text}");
    }
    // Bytes not laid out as expected are refused, never patched somewhere else.
    let a = build_query(1, &Name::from_ascii("a.example.").unwrap(), RecordType::A).unwrap();
    // A pointer byte read as a length would land on this A type 192 bytes on.
    let mut pointer = vec![0u8; 12 + 1 + 0xc0 + 3];
    pointer[12] = 0xc0;
    pointer[12 + 1 + 0xc0 + 2] = 1;
    assert!(aaaa_from_a(&pointer, 2).is_err(), "a compression pointer");
    let mut mx = a.clone();
    let qtype_at = 12 + 11; // the header, then 1 "a" 7 "example" 0
    assert_eq!(mx[qtype_at..qtype_at + 2], [0, 1]);
    mx[qtype_at + 1] = 15;
    assert!(aaaa_from_a(&mx, 2).is_err(), "another question type");
    assert!(aaaa_from_a(&a[..qtype_at + 1], 2).is_err(), "cut inside the question");
    assert!(aaaa_from_a(&a[..12], 2).is_err(), "a header alone");
}
