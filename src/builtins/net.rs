//! `net.*` builtins regorus lacks: `net.cidr_intersects`, `net.cidr_merge`,
//! `net.cidr_contains_matches` and `net.lookup_ip_addr`, with Go's `net` package semantics,
//! which OPA uses (IPv4-mapped IPv6 networks count as IPv4; a bare IPv4 address in
//! `cidr_merge` takes its classful default mask).
//!
//! Owns: parsing addresses and networks as Go does, range arithmetic on `u128`, merging
//! ranges into the fewest CIDRs. `lookup_ip_addr` asks the system resolver.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::str::FromStr;

use regorus::Value;

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "net.cidr_intersects",
        nargs: 2,
        eval: cidr_intersects,
    },
    Builtin {
        name: "net.cidr_merge",
        nargs: 1,
        eval: cidr_merge,
    },
    Builtin {
        name: "net.cidr_contains_matches",
        nargs: 2,
        eval: cidr_contains_matches,
    },
    Builtin {
        name: "net.lookup_ip_addr",
        nargs: 1,
        eval: lookup_ip_addr,
    },
    Builtin {
        name: "net.cidr_expand",
        nargs: 1,
        eval: cidr_expand,
    },
];

/// Where IPv4 addresses live in IPv6 space (`::ffff:0:0/96`), as Go keeps them.
const V4_MAPPED: u128 = 0xffff_0000_0000;

/// A network: family, first address (masked, in its family's width) and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Net {
    v4: bool,
    addr: u128,
    prefix: u32,
}

impl Net {
    fn bits(self) -> u32 {
        if self.v4 { 32 } else { 128 }
    }

    fn host_mask(self) -> u128 {
        let host = self.bits() - self.prefix;
        if host >= 128 {
            u128::MAX
        } else {
            (1u128 << host) - 1
        }
    }

    fn last(self) -> u128 {
        self.addr | self.host_mask()
    }

    fn contains(self, ip: Ip) -> bool {
        ip.v4 == self.v4 && ip.addr & !self.host_mask() == self.addr
    }

    /// The first and last address in IPv6 space, IPv4 mapped (Go's merge order).
    fn range(self) -> (u128, u128) {
        if self.v4 {
            (V4_MAPPED | self.addr, V4_MAPPED | self.last())
        } else {
            (self.addr, self.last())
        }
    }
}

/// An address, IPv4-mapped IPv6 addresses as IPv4 (Go's `To4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ip {
    v4: bool,
    addr: u128,
}

fn parse_ip(s: &str) -> Option<Ip> {
    match IpAddr::from_str(s).ok()? {
        IpAddr::V4(a) => Some(Ip {
            v4: true,
            addr: u128::from(u32::from(a)),
        }),
        IpAddr::V6(a) => Some(match a.to_ipv4_mapped() {
            Some(v4) => Ip {
                v4: true,
                addr: u128::from(u32::from(v4)),
            },
            None => Ip {
                v4: false,
                addr: u128::from(a),
            },
        }),
    }
}

/// Go's `net.ParseCIDR`, the network normalised the way Go's `IPNet` methods see it.
fn parse_cidr(s: &str) -> Result<Net, String> {
    let invalid = || format!("invalid CIDR address: {s}");
    let (ip, prefix) = s.split_once('/').ok_or_else(invalid)?;
    let digits_ok =
        !prefix.is_empty() && prefix.len() <= 3 && prefix.bytes().all(|b| b.is_ascii_digit());
    let prefix: u32 = if digits_ok {
        prefix.parse().map_err(|_| invalid())?
    } else {
        return Err(invalid());
    };
    match IpAddr::from_str(ip).map_err(|_| invalid())? {
        IpAddr::V4(a) if prefix <= 32 => Ok(masked(true, u128::from(u32::from(a)), prefix)),
        IpAddr::V6(a) if prefix <= 128 => Ok(match a.to_ipv4_mapped() {
            // Go reads an IPv4-mapped network as IPv4 with the mask's last 32 bits.
            Some(v4) => masked(true, u128::from(u32::from(v4)), prefix.saturating_sub(96)),
            None => masked(false, u128::from(a), prefix),
        }),
        _ => Err(invalid()),
    }
}

fn masked(v4: bool, addr: u128, prefix: u32) -> Net {
    let mut net = Net { v4, addr, prefix };
    net.addr &= !net.host_mask();
    net
}

fn show_ip(v4: bool, addr: u128) -> String {
    if v4 {
        Ipv4Addr::from(u32::try_from(addr & 0xffff_ffff).unwrap_or_default()).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

fn show(net: Net) -> String {
    format!("{}/{}", show_ip(net.v4, net.addr), net.prefix)
}

fn string_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(format!("{name}: operand {} must be string", i + 1)),
    }
}

fn cidr_intersects(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "net.cidr_intersects";
    let result: Result<Value, String> = (|| {
        let a = parse_cidr(string_arg(name, &args, 0)?).map_err(|e| format!("{name}: {e}"))?;
        let b = parse_cidr(string_arg(name, &args, 1)?).map_err(|e| format!("{name}: {e}"))?;
        let start = |n: Net| Ip {
            v4: n.v4,
            addr: n.addr,
        };
        Ok(Value::from(a.contains(start(b)) || b.contains(start(a))))
    })();
    result.or_else(builtin_error)
}

/// OPA's `net.cidr_contains` of a network and an address or network.
fn contains(cidr: &Value, other: &Value) -> Result<bool, String> {
    let Value::String(cidr) = cidr else {
        return Err("operand 1 must be string".to_string());
    };
    let Value::String(other) = other else {
        return Err("operand 2 must be string".to_string());
    };
    let net = parse_cidr(cidr)?;
    if let Some(ip) = parse_ip(other) {
        return Ok(net.contains(ip));
    }
    let inner = parse_cidr(other).map_err(|_| {
        format!("not a valid textual representation of an IP address or CIDR: {other}")
    })?;
    let first = Ip {
        v4: inner.v4,
        addr: inner.addr,
    };
    let last = Ip {
        v4: inner.v4,
        addr: inner.last(),
    };
    Ok(net.contains(first) && net.contains(last))
}

/// The (network or address, key) pairs of a `cidr_contains_matches` operand.
fn match_terms(operand: usize, value: &Value) -> Result<Vec<(Value, Value)>, String> {
    let element = |v: &Value| match v {
        Value::String(_) => Ok(v.clone()),
        Value::Array(a) if !a.is_empty() => Ok(a.first().cloned().unwrap_or(Value::Null)),
        _ => Err(format!(
            "operand {operand}: element must be string or non-empty array"
        )),
    };
    Ok(match value {
        Value::String(_) => vec![(value.clone(), value.clone())],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| Ok((element(v)?, Value::from(i))))
            .collect::<Result<_, String>>()?,
        Value::Set(items) => items
            .iter()
            .map(|v| Ok((element(v)?, v.clone())))
            .collect::<Result<_, String>>()?,
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| Ok((element(v)?, k.clone())))
            .collect::<Result<_, String>>()?,
        _ => Vec::new(),
    })
}

fn cidr_contains_matches(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "net.cidr_contains_matches";
    let result: Result<Value, String> = (|| {
        let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
            return Err(format!("{name}: expects 2 arguments"));
        };
        let left = match_terms(1, a).map_err(|e| format!("{name}: {e}"))?;
        let right = match_terms(2, b).map_err(|e| format!("{name}: {e}"))?;
        let mut out = BTreeSet::new();
        for (cidr, k1) in &left {
            for (other, k2) in &right {
                if contains(cidr, other).map_err(|e| format!("{name}: {e}"))? {
                    out.insert(Value::from(vec![k1.clone(), k2.clone()]));
                }
            }
        }
        Ok(Value::from(out))
    })();
    result.or_else(builtin_error)
}

/// A `cidr_merge` element: a network, or a bare IPv4 address with its classful mask, which
/// Go prints unmasked (`10.0.0.1/8`) when it stays unmerged.
fn merge_element(value: &Value) -> Result<(Net, String), String> {
    let Value::String(s) = value else {
        return Err("element must be string".to_string());
    };
    match parse_ip(s) {
        Some(ip) if ip.v4 => {
            let first = u32::try_from(ip.addr >> 24).unwrap_or(0);
            let prefix = match first {
                0..=127 => 8,
                128..=191 => 16,
                _ => 24,
            };
            Ok((
                masked(true, ip.addr, prefix),
                show_ip(true, ip.addr) + &format!("/{prefix}"),
            ))
        }
        Some(_) => Err("IPv6 invalid: needs prefix length".to_string()),
        None => {
            let net = parse_cidr(s)?;
            Ok((net, show(net)))
        }
    }
}

/// The fewest CIDRs covering `first..=last` (addresses in IPv6 space, IPv4 mapped).
fn range_to_cidrs(first: u128, last: u128) -> Vec<String> {
    let v4 = first >> 32 == 0xffff && last >> 32 == 0xffff;
    let (mut lo, hi, bits) = if v4 {
        (first & 0xffff_ffff, last & 0xffff_ffff, 32u32)
    } else {
        (first, last, 128u32)
    };
    let mut out = Vec::new();
    loop {
        // The largest block aligned at `lo` that ends at or before `hi`.
        let mut size = lo.trailing_zeros().min(bits);
        while size > 0 {
            let span = if size >= 128 {
                u128::MAX
            } else {
                (1u128 << size) - 1
            };
            if lo.checked_add(span).is_some_and(|end| end <= hi) {
                break;
            }
            size -= 1;
        }
        out.push(show(Net {
            v4,
            addr: lo,
            prefix: bits - size,
        }));
        let span = if size >= 128 {
            u128::MAX
        } else {
            (1u128 << size) - 1
        };
        match lo.checked_add(span) {
            Some(end) if end < hi => lo = end + 1,
            _ => break,
        }
    }
    out
}

fn cidr_merge(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "net.cidr_merge";
    let result: Result<Value, String> = (|| {
        let elements: Vec<&Value> = match args.first() {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(Value::Set(s)) => s.iter().collect(),
            _ => return Err(format!("{name}: operand must be an array")),
        };
        // (first, last, the network's text while it is not merged with another)
        let mut ranges: Vec<(u128, u128, Option<String>)> = elements
            .into_iter()
            .map(|e| {
                let (net, text) = merge_element(e).map_err(|e| format!("{name}: {e}"))?;
                let (first, last) = net.range();
                Ok((first, last, Some(text)))
            })
            .collect::<Result<_, String>>()?;
        ranges.sort_by_key(|r| (r.1, r.0));
        // Go merges from the end: a range joins the one before it when they touch.
        let mut i = ranges.len();
        while i > 1 {
            i -= 1;
            let (Some(&(first, last, _)), Some(&(prev_first, prev_last, _))) =
                (ranges.get(i), ranges.get(i - 1))
            else {
                break;
            };
            if first.saturating_sub(1) <= prev_last {
                if let Some(prev) = ranges.get_mut(i - 1) {
                    *prev = (prev_first.min(first), last, None);
                }
                ranges.remove(i);
            }
        }
        let mut out = BTreeSet::new();
        for (first, last, text) in ranges {
            match text {
                Some(text) => {
                    out.insert(Value::from(text));
                }
                None => out.extend(range_to_cidrs(first, last).into_iter().map(Value::from)),
            }
        }
        Ok(Value::from(out))
    })();
    result.or_else(builtin_error)
}

/// OPA's answer is a set of addresses; regorus' (which expands them as Go does) an array.
fn cidr_expand(args: Vec<Value>) -> anyhow::Result<Value> {
    let result = super::regorus_builtin::call("net.cidr_expand", &args).map(|hosts| match hosts {
        Value::Array(hosts) => Value::from(hosts.iter().cloned().collect::<BTreeSet<Value>>()),
        other => other,
    });
    result.or_else(builtin_error)
}

fn lookup_ip_addr(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "net.lookup_ip_addr";
    let result: Result<Value, String> = (|| {
        let host = string_arg(name, &args, 0)?;
        let addrs = (host, 0)
            .to_socket_addrs()
            .map_err(|e| format!("{name}: lookup {host}: {e}"))?;
        let ips: BTreeSet<Value> = addrs.map(|a| Value::from(a.ip().to_string())).collect();
        Ok(Value::from(ips))
    })();
    result.or_else(builtin_error)
}

#[cfg(test)]
mod tests;
