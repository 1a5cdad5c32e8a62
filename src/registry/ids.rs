//! Identifiers the registry hands out: account oids, random registration, request, confirmation
//! and session ids, and the hasher that indexes the random ones without rehashing them.
//!
//! Random ids are drawn from the CSPRNG the caller hands in, so nobody can guess another
//! citizen's registration or session; on the wire they are lower-case hex of fixed width.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// Writes `value` as `width` lower-case hex digits, by hand: every answer carries an id, and
/// `write!` with padding cost about 500 instructions a registration's answer.
fn hex(f: &mut fmt::Formatter<'_>, value: u128, width: usize) -> fmt::Result {
    let mut d = esia_mocks::ident::Digits::new();
    d.hex(value, width);
    f.write_str(d.as_str())
}

/// Parses exactly `width` hex digits (either case).
fn parse_hex(s: &str, width: usize) -> Option<u128> {
    if s.len() != width || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident($int:ty), $width:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        impl $name {
            /// Width of the hex form.
            pub const HEX_WIDTH: usize = $width;

            /// Draws a fresh id (never zero, so a zeroed field never matches a real id).
            pub fn random(rng: &mut impl Rng) -> Self {
                loop {
                    let mut bytes = [0u8; std::mem::size_of::<$int>()];
                    rng.fill_bytes(&mut bytes);
                    let v = <$int>::from_le_bytes(bytes);
                    if v != 0 {
                        return Self(v);
                    }
                }
            }

            /// Parses the hex form; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                parse_hex(s.trim(), $width).map(|v| Self(v as $int)).filter(|id| id.0 != 0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                hex(f, self.0 as u128, $width)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not a ", stringify!($name)))
                })
            }
        }
    };
}

random_id!(
    /// A registration in progress (step 1, before the password): 64 random bits.
    RegistrationId(u64),
    16
);
random_id!(
    /// One request to an agency (PFR, FMS, CA): the idempotency key of its reply.
    RequestId(u64),
    16
);
random_id!(
    /// One confirmation attempt: a post letter ordered, or a partner's request.
    ConfirmationId(u64),
    16
);
random_id!(
    /// A login session's bearer token: 128 random bits.
    SessionToken(u128),
    32
);

impl RegistrationId {
    /// Bits of a registration id that name its slot in the registration store; the other 40
    /// are random, so an id cannot be guessed from its neighbours.
    pub const SLOT_BITS: u32 = 24;
    /// The most registrations the store can hold at once.
    pub const SLOTS_MAX: usize = 1 << Self::SLOT_BITS;

    /// The id of slot `slot` with 40 random bits from `rng` (never zero).
    pub fn for_slot(rng: &mut impl Rng, slot: usize) -> Self {
        debug_assert!(slot < Self::SLOTS_MAX);
        loop {
            let tag = rng.next_u64() >> Self::SLOT_BITS;
            if tag != 0 {
                return Self((tag << Self::SLOT_BITS) | slot as u64);
            }
        }
    }

    /// The slot this id names.
    pub fn slot(self) -> usize {
        (self.0 & (Self::SLOTS_MAX as u64 - 1)) as usize
    }
}

/// An account's number, as ESIA's person oid: handed out in sequence from
/// [`Oid::FIRST`], so the first account of every run has the same oid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Oid(pub u64);

impl Oid {
    /// The first oid handed out.
    pub const FIRST: Oid = Oid(1_000_000_001);

    /// Parses the decimal form.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().map(Oid)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A hasher for keys that are already uniformly random (ids drawn from a CSPRNG): it folds the
/// key's bits instead of hashing them. Nobody outside chooses these keys, so there is nothing to
/// protect against flooding, and a lookup among a million registrations stays one cache miss.
#[derive(Default, Clone, Copy)]
pub struct RandomIdHasher(u64);

impl Hasher for RandomIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by the id types (they hash as integers); kept correct for any other key.
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 ^= (n as u64) ^ ((n >> 64) as u64);
    }
}

/// `BuildHasher` of [`RandomIdHasher`].
pub type RandomIdState = BuildHasherDefault<RandomIdHasher>;

/// A map keyed by random ids.
pub type IdMap<K, V> = std::collections::HashMap<K, V, RandomIdState>;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn ids_round_trip_through_hex() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let r = RegistrationId::random(&mut rng);
        let s = r.to_string();
        assert_eq!(s.len(), 16);
        assert_eq!(RegistrationId::parse(&s), Some(r));
        assert_eq!(RegistrationId::parse(&s.to_uppercase()), Some(r));
        let t = SessionToken::random(&mut rng);
        assert_eq!(t.to_string().len(), 32);
        assert_eq!(SessionToken::parse(&t.to_string()), Some(t));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<RegistrationId>(&json).unwrap(), r);
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "xyz",
            "0000000000000000",
            "123",
            "g000000000000001",
            "+00000000000001",
        ] {
            assert_eq!(RegistrationId::parse(bad), None, "{bad}");
        }
        assert_eq!(Oid::parse("1000000001"), Some(Oid::FIRST));
        assert_eq!(Oid::parse("-1"), None);
        assert_eq!(Oid::parse("99999999999999999999"), None);
    }
}
