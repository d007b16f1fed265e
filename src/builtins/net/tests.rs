//! Unit tests of the `net.*` extensions; expected values are OPA v1.20.2's.

use super::*;

fn s(v: &str) -> Value {
    Value::from(v)
}

fn strings(v: &[&str]) -> Value {
    Value::from(v.iter().map(|x| Value::from(*x)).collect::<BTreeSet<_>>())
}

#[test]
fn parses_like_go() {
    assert_eq!(
        parse_cidr("192.0.128.5/24"),
        Ok(Net {
            v4: true,
            addr: 0xc000_8000,
            prefix: 24
        })
    );
    // An IPv4-mapped network is IPv4, with the mask's last 32 bits.
    assert_eq!(
        parse_cidr("::ffff:10.0.0.0/104").map(|n| (n.v4, n.prefix)),
        Ok((true, 8))
    );
    assert!(parse_cidr("192.168.0.0").is_err());
    assert!(parse_cidr("1.2.3.4/33").is_err());
}

#[test]
fn intersects() {
    let check = |a: &str, b: &str| cidr_intersects(vec![s(a), s(b)]).unwrap();
    assert_eq!(check("192.168.0.0/16", "192.168.1.0/24"), Value::from(true));
    assert_eq!(
        check("fd1e:5bfe:8af3:9ddc::/64", "fd1e:5bfe:8af3:9ddc:1111::/72"),
        Value::from(true)
    );
    assert_eq!(check("2001:db8::/32", "2001:db9::/32"), Value::from(false));
    assert_eq!(check("192.168.0.0/16", "fd1e::/64"), Value::from(false));
}

#[test]
fn merges_like_opa() {
    let merge = |v: &[&str]| {
        cidr_merge(vec![Value::from(
            v.iter().map(|x| Value::from(*x)).collect::<Vec<_>>(),
        )])
        .unwrap()
    };
    assert_eq!(
        merge(&["192.0.128.0/24", "192.0.129.0/24"]),
        strings(&["192.0.128.0/23"])
    );
    assert_eq!(
        merge(&["10.0.0.1", "192.168.0.1"]),
        strings(&["10.0.0.1/8", "192.168.0.1/24"])
    );
    assert_eq!(
        merge(&["1.1.1.3/32", "1.1.1.4/32", "1.1.1.5/32", "1.1.1.6/32"]),
        strings(&["1.1.1.3/32", "1.1.1.4/31", "1.1.1.6/32"])
    );
    assert_eq!(
        merge(&["2001:db8::/33", "2001:db8:8000::/33", "::1/128"]),
        strings(&["2001:db8::/32", "::1/128"])
    );
    assert_eq!(merge(&["0.0.0.0/0", "::/0"]), strings(&["::/0"]));
    assert_eq!(merge(&["::1"]), Value::Undefined);
}

#[test]
fn contains_matches_keys_each_operand_by_its_kind() {
    let got = cidr_contains_matches(vec![
        Value::from(vec![s("1.1.1.0/24"), s("1.1.2.0/24")]),
        Value::from(
            serde_json::json!({"a": "1.1.1.128", "b": ["1.1.2.1", "extra"], "c": "2.2.2.2"}),
        ),
    ])
    .unwrap();
    let want: BTreeSet<Value> = [
        Value::from(vec![Value::from(0), s("a")]),
        Value::from(vec![Value::from(1), s("b")]),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, Value::from(want));
}

#[test]
fn looks_up_localhost() {
    let got = lookup_ip_addr(vec![s("localhost")]).unwrap();
    assert!(got.as_set().unwrap().contains(&s("127.0.0.1")), "{got}");
}
