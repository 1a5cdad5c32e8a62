//! Banks (Sber, Tinkoff, Pochta Bank): a client fills the bank's Gosuslugi form and the bank
//! confirms the account at once (DOMAIN.md step 3, seed 004). The model answers whether a SNILS
//! is the bank's client, after a small delay; each bank has its own profile.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize};

use super::latency::Latency;
use super::matching::same_digits;
use super::profile::{deserialize_over, Profile, ProfileTable, Reply, COMMON_KEYS};
use crate::clock::{SimTime, MS_PER_SEC};

/// A partner bank. Wire names: `sber`, `tinkoff`, `pochta`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Bank {
    Sber,
    Tinkoff,
    Pochta,
}

impl Bank {
    /// Every partner bank, in wire-name order of the contract.
    pub const ALL: [Bank; 3] = [Bank::Sber, Bank::Tinkoff, Bank::Pochta];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Bank::Sber => "sber",
            Bank::Tinkoff => "tinkoff",
            Bank::Pochta => "pochta",
        }
    }
}

impl fmt::Display for Bank {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bank name that is not a partner's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bank `{0}` (expected sber, tinkoff or pochta)")]
pub struct UnknownBank(pub String);

impl FromStr for Bank {
    type Err = UnknownBank;
    fn from_str(s: &str) -> Result<Self, UnknownBank> {
        Bank::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| UnknownBank(s.to_owned()))
    }
}

/// A bank's client as the bank knows them (for the engine's partner API the HTTP mock holds
/// the client's full personal data beside this).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankClient {
    pub bank: Bank,
    pub snils: String,
}

/// Whether a SNILS is the bank's client. Wire names: `client`, `not_a_client`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankVerdict {
    Client,
    NotAClient,
}

/// Judges whether `snils` is a client of `bank`, given the bank record held for that SNILS
/// (`None` if the person banks nowhere).
pub fn compare(bank: Bank, snils: &str, truth: Option<&BankClient>) -> BankVerdict {
    match truth {
        Some(client) if client.bank == bank && same_digits(&client.snils, snils) => {
            BankVerdict::Client
        }
        _ => BankVerdict::NotAClient,
    }
}

/// When and whether `bank` delivers `verdict` for a request made at `now`.
pub fn respond<R: Rng + ?Sized>(
    bank: Bank,
    verdict: BankVerdict,
    profile: &BanksProfile,
    now: SimTime,
    rng: &mut R,
) -> Reply<BankVerdict> {
    profile.get(bank).service.decide(now, rng).with(verdict)
}

/// One bank as a service: only the common keys (see [`Profile`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BankProfile {
    #[serde(flatten)]
    pub service: Profile,
}

impl Default for BankProfile {
    /// Latency lognormal with median 2 s and p99 15 s ("immediate": seed 004), `error_rate`
    /// 0.002, `timeout_rate` 0.001, no outages, speedup 1.
    fn default() -> Self {
        let latency = Latency::lognormal(2 * MS_PER_SEC, 15 * MS_PER_SEC)
            .expect("constant p99 is above its median");
        Self {
            service: Profile {
                latency,
                error_rate: 0.002,
                timeout_rate: 0.001,
                ..Profile::default()
            },
        }
    }
}

impl ProfileTable for BankProfile {
    const KEYS: &'static [&'static str] = &COMMON_KEYS;
    fn service(&mut self) -> &mut Profile {
        &mut self.service
    }
}

impl<'de> Deserialize<'de> for BankProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_over(deserializer)
    }
}

/// The three banks' profiles, a table each: `[agencies.banks.sber]`, ...
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BanksProfile {
    pub sber: BankProfile,
    pub tinkoff: BankProfile,
    pub pochta: BankProfile,
}

impl BanksProfile {
    /// The profile of one bank.
    pub fn get(&self, bank: Bank) -> &BankProfile {
        match bank {
            Bank::Sber => &self.sber,
            Bank::Tinkoff => &self.tinkoff,
            Bank::Pochta => &self.pochta,
        }
    }

    /// The profile of one bank, to change it.
    pub fn get_mut(&mut self, bank: Bank) -> &mut BankProfile {
        match bank {
            Bank::Sber => &mut self.sber,
            Bank::Tinkoff => &mut self.tinkoff,
            Bank::Pochta => &mut self.pochta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::latency::tests::rng;

    #[test]
    fn compare_finds_clients_of_this_bank_only() {
        let client = BankClient {
            bank: Bank::Tinkoff,
            snils: "112-233-445 95".into(),
        };
        assert_eq!(
            compare(Bank::Tinkoff, "11223344595", Some(&client)),
            BankVerdict::Client
        );
        assert_eq!(
            compare(Bank::Sber, "11223344595", Some(&client)),
            BankVerdict::NotAClient
        );
        assert_eq!(
            compare(Bank::Tinkoff, "11223344596", Some(&client)),
            BankVerdict::NotAClient
        );
        assert_eq!(
            compare(Bank::Pochta, "11223344595", None),
            BankVerdict::NotAClient
        );
    }

    #[test]
    fn banks_have_wire_names_and_parse_back() {
        for bank in Bank::ALL {
            assert_eq!(bank.as_str().parse::<Bank>(), Ok(bank));
            assert_eq!(serde_json::to_string(&bank).unwrap(), format!("\"{bank}\""));
        }
        assert!("alfa".parse::<Bank>().is_err());
    }

    #[test]
    fn each_bank_has_its_own_profile() {
        let p: BanksProfile =
            toml::from_str("[tinkoff]\nerror_rate = 1.0\ntimeout_rate = 0.0").unwrap();
        assert_eq!(p.sber, BankProfile::default());
        let mut r = rng(71);
        assert_eq!(
            respond(
                Bank::Tinkoff,
                BankVerdict::Client,
                &p,
                SimTime::ZERO,
                &mut r
            ),
            Reply::ServerError
        );
        let sber = respond(Bank::Sber, BankVerdict::Client, &p, SimTime::ZERO, &mut r);
        assert_eq!(sber.verdict(), Some(&BankVerdict::Client));
        assert!(sber.delay_ms().is_some_and(|d| d < 10 * 60 * MS_PER_SEC));
        let typo = toml::from_str::<BanksProfile>("[alfa]\nerror_rate = 0.1")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("alfa"), "{typo}");
    }
}
