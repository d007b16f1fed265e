//! Sharing the repeated parts of a large document (bundle data) while it is parsed.
//!
//! Owns: three bounded caches, consulted as each part is built: object keys, short string
//! values, and small arrays and objects of strings (a user's role list, a tenant's scopes).
//! A part equal to a cached one is the cached one's allocation. Values are immutable (regorus
//! copies on write), so sharing changes nothing a policy can see. Each cache is two-way
//! set-associative with a fixed number of slots, and admits a part the second time it is seen:
//! ids that occur once take no slot, and a value that keeps coming back stays cached while
//! unique ids stream past it.

use std::hash::Hasher;

use regorus::{Rc, Value};

/// A string value up to this many bytes is shared with its equals.
pub(super) const SHARED_VALUE_BYTES: usize = 32;

/// An array or object of at most this many strings (booleans, nulls) is shared with its
/// equals. Numbers are left out: regorus compares `1` and `1.0` as equal, and sharing must
/// never swap one for the other.
pub(super) const SHARED_CONTAINER_MEMBERS: usize = 8;

/// Buckets of each cache (two slots each): 4,096 distinct repeated parts at a time. Small on
/// purpose: every part of the document looks a cache up, and tables that stay in the CPU's
/// cache parsed 10 MB of data in about half the time of tables of 32,768 slots.
const BUCKETS: usize = 1 << 11;

/// Hashes remembered for admission (see [`Cache`]).
const SEEN: usize = 1 << 13;

/// The caches of one document. Bundle data is trusted (a policy author's), so a fast hash
/// without flooding protection serves; a collision costs a missed share, never a wrong one.
pub(super) struct Interner {
    keys: Cache<Rc<str>>,
    values: Cache<Rc<str>>,
    containers: Cache<Value>,
}

impl Default for Interner {
    fn default() -> Self {
        Self {
            keys: Cache::new(),
            values: Cache::new(),
            containers: Cache::new(),
        }
    }
}

/// What [`Interner::find_array`] found.
pub(super) enum Found {
    /// An equal array, to use instead.
    Shared(Value),
    /// None: remember the array once built, under this hash.
    Remember(u64),
    /// The array is not of the shared kind.
    NotShared,
}

impl Interner {
    pub(super) fn key(&mut self, text: &str) -> Rc<str> {
        Self::string(&mut self.keys, text)
    }

    pub(super) fn value(&mut self, text: &str) -> Rc<str> {
        if text.len() > SHARED_VALUE_BYTES {
            return text.into();
        }
        Self::string(&mut self.values, text)
    }

    fn string(cache: &mut Cache<Rc<str>>, text: &str) -> Rc<str> {
        let hash = hash_bytes(text.as_bytes());
        if let Some(shared) = cache.find(hash, |s| &**s == text) {
            return shared.clone();
        }
        let shared: Rc<str> = text.into();
        cache.insert(hash, shared.clone());
        shared
    }

    /// Looks an array up by its items, before it is built.
    pub(super) fn find_array(&mut self, items: &[Value]) -> Found {
        if items.len() > SHARED_CONTAINER_MEMBERS {
            return Found::NotShared;
        }
        let Some(hash) = container_hash(b'a', items.iter()) else {
            return Found::NotShared;
        };
        let equal = |v: &Value| {
            matches!(v, Value::Array(a) if a.len() == items.len()
                && a.iter().zip(items).all(|(x, y)| same_scalar(x, y)))
        };
        match self.containers.find(hash, equal) {
            Some(shared) => Found::Shared(shared.clone()),
            None => Found::Remember(hash),
        }
    }

    pub(super) fn remember(&mut self, hash: u64, value: &Value) {
        self.containers.insert(hash, value.clone());
    }

    /// An object of a few strings, or its equal seen before.
    pub(super) fn object(&mut self, value: Value) -> Value {
        let Value::Object(members) = &value else {
            return value;
        };
        if members.len() > SHARED_CONTAINER_MEMBERS {
            return value;
        }
        // Keys are strings, so hashing them with the values in key order covers both.
        let flat = members.iter_sorted().flat_map(|(k, v)| [k, v]);
        let Some(hash) = container_hash(b'o', flat) else {
            return value;
        };
        let equal = |v: &Value| {
            matches!(v, Value::Object(o) if o.len() == members.len()
                && o.iter_sorted().zip(members.iter_sorted())
                    .all(|((k1, v1), (k2, v2))| same_scalar(k1, k2) && same_scalar(v1, v2)))
        };
        if let Some(shared) = self.containers.find(hash, equal) {
            return shared.clone();
        }
        self.remember(hash, &value);
        value
    }
}

/// The same string, boolean or null (numbers are never shared, see above).
fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// The hash of a small container of strings, booleans and nulls; `None` for any other.
fn container_hash<'v>(kind: u8, members: impl Iterator<Item = &'v Value>) -> Option<u64> {
    let mut hasher = WordHasher::default();
    hasher.write_u8(kind);
    let mut empty = true;
    for member in members {
        empty = false;
        match member {
            Value::String(s) => {
                hasher.write_usize(s.len());
                hasher.write(s.as_bytes());
            }
            Value::Bool(b) => hasher.write_u8(if *b { 1 } else { 2 }),
            Value::Null => hasher.write_u8(3),
            _ => return None,
        }
    }
    (!empty).then(|| hasher.finish())
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = WordHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// A fixed set of buckets of two slots, the most recently used first, each slot with its
/// item's hash (a mismatch is told without reading the item). An item is admitted the second
/// time its hash is seen: ids that occur once never take a slot or evict a shared value.
struct Cache<T> {
    slots: Vec<[Option<(u64, T)>; 2]>,
    /// The last hash seen in each position (admission on a second sighting).
    seen: Vec<u64>,
}

impl<T> Cache<T> {
    fn new() -> Self {
        Self {
            slots: std::iter::repeat_with(|| [None, None])
                .take(BUCKETS)
                .collect(),
            seen: vec![0; SEEN],
        }
    }

    fn bucket(&mut self, hash: u64) -> &mut [Option<(u64, T)>; 2] {
        // BUCKETS is a power of two; the hash's low bits mix every byte (see WordHasher).
        &mut self.slots[(hash as usize) & (BUCKETS - 1)]
    }

    fn find(&mut self, hash: u64, equal: impl Fn(&T) -> bool) -> Option<&T> {
        let matches = |slot: &Option<(u64, T)>| {
            slot.as_ref()
                .is_some_and(|(h, item)| *h == hash && equal(item))
        };
        let bucket = self.bucket(hash);
        if matches(&bucket[0]) {
            return bucket[0].as_ref().map(|(_, item)| item);
        }
        if matches(&bucket[1]) {
            bucket.swap(0, 1);
            return bucket[0].as_ref().map(|(_, item)| item);
        }
        None
    }

    /// Makes `item` the bucket's first, dropping the least recently used, if its hash was
    /// seen before.
    fn insert(&mut self, hash: u64, item: T) {
        // The high bits pick the position, so that it is independent of the bucket.
        let seen = &mut self.seen[(hash >> 32) as usize & (SEEN - 1)];
        if *seen != hash {
            *seen = hash;
            return;
        }
        let bucket = self.bucket(hash);
        bucket.swap(0, 1);
        bucket[0] = Some((hash, item));
    }
}

/// Eight bytes at a time, multiply and rotate (the Fx hash's step), then murmur3's finalizer,
/// so that the low bits the caches index by depend on every byte ("u1234" and "u1235" differ
/// only in their fifth byte).
#[derive(Default)]
struct WordHasher(u64);

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for chunk in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<Value> {
        items.iter().map(|s| Value::from(*s)).collect()
    }

    #[test]
    fn a_repeated_string_is_shared_while_unique_ones_stream_past() {
        let mut interner = Interner::default();
        // Admitted the second time it is seen, shared from the third.
        let once = interner.value("viewer");
        let first = interner.value("viewer");
        assert!(!Rc::ptr_eq(&once, &first));
        for i in 0..100_000 {
            interner.value(&format!("o{i}-0"));
            // Used every few unique ids, as a role is in a list of users.
            if i % 50 == 0 {
                assert!(Rc::ptr_eq(&first, &interner.value("viewer")), "at {i}");
            }
        }
        interner.key("roles");
        assert!(Rc::ptr_eq(&interner.key("roles"), &interner.key("roles")));
        // A long value is never shared.
        let long = "x".repeat(SHARED_VALUE_BYTES + 1);
        assert!(!Rc::ptr_eq(&interner.value(&long), &interner.value(&long)));
    }

    #[test]
    fn the_caches_have_a_fixed_size() {
        let mut interner = Interner::default();
        for i in 0..4 * BUCKETS {
            interner.value(&format!("v{i}"));
            interner.key(&format!("k{i}"));
        }
        for cache in [&interner.values, &interner.keys] {
            assert_eq!(cache.slots.len(), BUCKETS);
            assert!(cache.slots.iter().flatten().flatten().count() <= 2 * BUCKETS);
        }
    }

    #[test]
    fn small_arrays_of_strings_are_shared_and_others_are_not() {
        let mut interner = Interner::default();
        let items = strings(&["role1", "viewer"]);
        let mut built = Value::Null;
        for _ in 0..2 {
            let Found::Remember(hash) = interner.find_array(&items) else {
                panic!("an array not yet admitted is remembered");
            };
            built = Value::from(items.clone());
            interner.remember(hash, &built);
        }
        match interner.find_array(&items) {
            Found::Shared(Value::Array(a)) => {
                assert!(matches!(&built, Value::Array(b) if Rc::ptr_eq(&a, b)))
            }
            _ => panic!("an equal array is shared"),
        }
        // Another order, another length, or a number: not the same array.
        assert!(matches!(
            interner.find_array(&strings(&["viewer", "role1"])),
            Found::Remember(_)
        ));
        assert!(matches!(
            interner.find_array(&strings(&["role1"])),
            Found::Remember(_)
        ));
        assert!(matches!(
            interner.find_array(&[Value::from(1u64)]),
            Found::NotShared
        ));
        assert!(matches!(interner.find_array(&[]), Found::NotShared));
        let many: Vec<String> = (0..=SHARED_CONTAINER_MEMBERS)
            .map(|i| i.to_string())
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(matches!(
            interner.find_array(&strings(&many)),
            Found::NotShared
        ));
    }

    #[test]
    fn equal_numbers_of_another_kind_are_never_swapped() {
        // 1 and 1.0 are equal to regorus; an array holding either is simply not shared.
        let mut interner = Interner::default();
        assert!(matches!(
            interner.find_array(&[Value::from(1.0f64)]),
            Found::NotShared
        ));
        interner.object(Value::from_json_str(r#"{"n": 1}"#).unwrap());
        let object = Value::from_json_str(r#"{"n": 1}"#).unwrap();
        let again = Value::from_json_str(r#"{"n": 1}"#).unwrap();
        let (Value::Object(a), Value::Object(b)) =
            (interner.object(object), interner.object(again))
        else {
            unreachable!()
        };
        assert!(!Rc::ptr_eq(&a, &b));
    }

    #[test]
    fn small_objects_of_strings_are_shared() {
        let mut interner = Interner::default();
        interner.object(Value::from_json_str(r#"{"tenant": "t1", "admin": true}"#).unwrap());
        let a =
            interner.object(Value::from_json_str(r#"{"tenant": "t1", "admin": true}"#).unwrap());
        let b =
            interner.object(Value::from_json_str(r#"{"admin": true, "tenant": "t1"}"#).unwrap());
        let c =
            interner.object(Value::from_json_str(r#"{"admin": false, "tenant": "t1"}"#).unwrap());
        let ptr = |v: &Value| match v {
            Value::Object(o) => Rc::as_ptr(o),
            _ => unreachable!(),
        };
        assert_eq!(ptr(&a), ptr(&b));
        assert_ne!(ptr(&a), ptr(&c));
        assert_eq!(a, b);
    }
}
