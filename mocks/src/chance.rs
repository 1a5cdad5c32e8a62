//! Chance that does not depend on scheduling: counter-based random streams and keyed permutations.
//!
//! Every random draw in the project comes from a stream keyed by (seed, citizen, event, attempt)
//! (DESIGN.md, core idea 6). A stream is a ChaCha8 generator whose key is derived from the seed,
//! whose 64-bit stream id is the citizen, and whose starting block is a fixed function of the
//! event and the attempt, so opening a stream costs no more than building the generator, and
//! the draws of one citizen never depend on what another citizen did or on how threads interleave.
//!
//! [`Permutation`] is a keyed bijection of `0..domain`: the population turns a citizen's index into
//! an identifier that is unique however large the population, without a lookup table.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator behind every stream. Named (not `StdRng`) so that a seed gives the same
/// population and the same simulation across `rand` versions.
pub type StreamRng = ChaCha8Rng;

/// What a stream is for. Each event owns a disjoint range of the citizen's ChaCha stream.
///
/// The numbers are part of the reproducibility contract: changing one changes every output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum Event {
    /// The citizen's numeric skeleton: gender, age, region, flags, traits.
    Skeleton = 1,
    /// The citizen's texts: names, birth place, address, issuing authority.
    Texts = 2,
    /// Agency answers to this citizen (PFR, FMS, CA, banks, centers).
    Agency = 3,
    /// Deliveries: SMS, mail, post letters.
    Delivery = 4,
    /// The citizen's behaviour in a simulation or a load run.
    Behaviour = 5,
    /// Codes and tokens issued by the engine when they are made reproducible for tests.
    Codes = 6,
    /// Anything a caller keys by itself (tests, benches, mocks' own draws).
    Other = 7,
}

/// Bits of the ChaCha word position given to one (event, attempt) pair: 2^36 words (256 GiB).
const SUBSTREAM_BITS: u32 = 36;

/// The root of all randomness of one run: a seed expanded once into a ChaCha key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chance {
    seed: u64,
    key: [u8; 32],
}

impl Chance {
    /// The chance of one seed.
    pub fn new(seed: u64) -> Self {
        let mut key = [0u8; 32];
        let mut state = seed;
        for chunk in key.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            chunk.copy_from_slice(&mix64(state).to_le_bytes());
        }
        Self { seed, key }
    }

    /// The seed this chance was made from (printed in every report).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The stream of draws for one citizen, one event and one attempt at it.
    ///
    /// Two different keys give independent streams; the same key always gives the same draws.
    pub fn stream(&self, citizen: u64, event: Event, attempt: u16) -> StreamRng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(citizen);
        let substream = ((event as u128) << 16) | attempt as u128;
        rng.set_word_pos(substream << SUBSTREAM_BITS);
        rng
    }

    /// A 64-bit key derived from the seed and a label, for permutations and hashes.
    pub fn subkey(&self, label: u64) -> u64 {
        mix64(self.seed ^ mix64(label.wrapping_add(0xD6E8_FEB8_6659_FD93)))
    }
}

impl Chance {
    /// A fast stream for one citizen, event and attempt: SplitMix64 started from a hash of the
    /// key. For the simulator's many short-lived draws (a few per event), where building a
    /// ChaCha block per event would cost more than the event; not for codes or tokens.
    #[inline]
    pub fn quick(&self, citizen: u64, event: Event, attempt: u32) -> QuickRng {
        let label = ((event as u64) << 32) | attempt as u64;
        QuickRng {
            state: mix64(
                self.quick_key() ^ mix64(citizen.wrapping_mul(0xA076_1D64_78BD_642F) ^ label),
            ),
        }
    }

    #[inline]
    fn quick_key(&self) -> u64 {
        u64::from_le_bytes(self.key[..8].try_into().expect("8 bytes"))
    }
}

/// SplitMix64: a counter-based generator whose every output is a strong mix of a counter
/// (passes BigCrush); see [`Chance::quick`].
#[derive(Clone, Debug)]
pub struct QuickRng {
    state: u64,
}

impl rand::TryRng for QuickRng {
    type Error = std::convert::Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.try_next_u64().map(|x| (x >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        Ok(mix64(self.state))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let x = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
        Ok(())
    }
}

/// A strong 64-bit mixer (the finaliser of SplitMix64).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A keyed bijection of `0..domain` (a balanced Feistel network with cycle walking).
///
/// `apply` maps distinct inputs below `domain` to distinct outputs below `domain`, so
/// `apply(i)` turns a citizen index into a unique, scattered identifier.
#[derive(Clone, Debug)]
pub struct Permutation {
    domain: u64,
    half_bits: u32,
    half_mask: u64,
    round_keys: [u64; Self::ROUNDS],
}

impl Permutation {
    const ROUNDS: usize = 6;

    /// A permutation of `0..domain` keyed by `key`. `domain` must be at least 1.
    pub fn new(key: u64, domain: u64) -> Self {
        assert!(domain >= 1, "a permutation needs a non-empty domain");
        // Smallest even bit width 2k with 2^(2k) >= domain, at least 2 bits.
        let bits = (64 - (domain - 1).leading_zeros()).max(2);
        let half_bits = bits.div_ceil(2);
        let mut round_keys = [0u64; Self::ROUNDS];
        let mut state = key;
        for k in &mut round_keys {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            *k = mix64(state);
        }
        Self {
            domain,
            half_bits,
            half_mask: (1u64 << half_bits) - 1,
            round_keys,
        }
    }

    /// The size of the permuted range.
    pub fn domain(&self) -> u64 {
        self.domain
    }

    /// The image of `x`, for `x < domain`.
    #[inline]
    pub fn apply(&self, x: u64) -> u64 {
        debug_assert!(x < self.domain);
        let mut y = self.feistel(x);
        // Cycle walking: the Feistel network permutes 0..4^k, which is less than 4 * domain,
        // so on average fewer than four steps lead back into 0..domain.
        while y >= self.domain {
            y = self.feistel(y);
        }
        y
    }

    #[inline]
    fn feistel(&self, x: u64) -> u64 {
        let mut left = x >> self.half_bits;
        let mut right = x & self.half_mask;
        for &k in &self.round_keys {
            let f = mix64(right ^ k) & self.half_mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_key_same_draws_and_keys_are_independent() {
        let chance = Chance::new(42);
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(chance.stream(7, Event::Skeleton, 0), |r, _| {
                Some(r.next_u64())
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(chance.stream(7, Event::Skeleton, 0), |r, _| {
                Some(r.next_u64())
            })
            .collect();
        assert_eq!(a, b);
        let first = |c: u64, e: Event, at: u16| chance.stream(c, e, at).next_u64();
        assert_ne!(first(7, Event::Skeleton, 0), first(8, Event::Skeleton, 0));
        assert_ne!(first(7, Event::Skeleton, 0), first(7, Event::Texts, 0));
        assert_ne!(first(7, Event::Skeleton, 0), first(7, Event::Skeleton, 1));
        assert_ne!(
            first(7, Event::Skeleton, 0),
            Chance::new(43).stream(7, Event::Skeleton, 0).next_u64()
        );
    }

    #[test]
    fn quick_streams_are_keyed_and_uniform() {
        let chance = Chance::new(9);
        let mut a = chance.quick(1, Event::Behaviour, 0);
        let mut b = chance.quick(1, Event::Behaviour, 0);
        assert_eq!(a.next_u64(), b.next_u64());
        let first = |c: u64, at: u32| chance.quick(c, Event::Behaviour, at).next_u64();
        assert_ne!(first(1, 0), first(2, 0));
        assert_ne!(first(1, 0), first(1, 1));
        // Mean of 100,000 uniform draws within 1% of 0.5.
        let mut r = chance.quick(3, Event::Other, 0);
        let mean = (0..100_000)
            .map(|_| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
            .sum::<f64>()
            / 1e5;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }

    #[test]
    fn permutation_is_a_bijection_on_odd_domains() {
        for domain in [1u64, 2, 3, 10, 997, 1000, 4096, 5000] {
            let p = Permutation::new(11, domain);
            let mut seen = vec![false; domain as usize];
            for x in 0..domain {
                let y = p.apply(x);
                assert!(y < domain, "image {y} out of 0..{domain}");
                assert!(!seen[y as usize], "{y} hit twice in 0..{domain}");
                seen[y as usize] = true;
            }
        }
    }

    #[test]
    fn permutation_depends_on_key() {
        let a = Permutation::new(1, 1_000_000);
        let b = Permutation::new(2, 1_000_000);
        let differ = (0..100).filter(|&x| a.apply(x) != b.apply(x)).count();
        assert!(differ > 90);
    }
}
