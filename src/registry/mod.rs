//! The registry engine, without I/O: the one copy of the domain rules of DOMAIN.md that the
//! stand, the load scenarios and the simulator all use (DESIGN.md, core idea 2).
//!
//! Modules, from the smallest pieces up:
//! - [`config`]: every figure (code lifetimes, attempts, resends, session lifetime, store caps),
//!   defaults documented in `impl Default`.
//! - [`ids`]: oids and the random registration, request, confirmation and session ids.
//! - [`code`]: [`OneTimeCode`], the SMS code, e-mail link and letter code as one `Copy` state
//!   machine, compared in constant time.
//! - [`password`]: the password rules as a pure function; argon2 hashing under the cost
//!   profiles `realistic`, `load` and `none`, done by the caller outside the registry.
//! - [`personal`]: the personal-data form and its validation, every error naming its field.
//! - [`verification`]: PFR and FMS verification as a `Copy` state machine; [`Agency`], the two
//!   verifying agencies, as the stand and the simulator name them too.
//! - [`confirmation`]: confirmation methods, letters, restrictions.
//! - [`account`]: [`Tier`] and [`AccountState`], the compact per-account state with the rules
//!   as methods (the simulator keeps one per live citizen).
//! - [`census`]: [`Census`], accounts by tier and verifications pending, kept as accounts
//!   change (what `/metrics` reads).
//! - `expiry`: the deadline indexes (one per store, one for pending verifications) from which
//!   `expire` takes what is due, without scanning a store.
//! - [`effect`]: [`Effect`], what the registry asks the world to do.
//! - [`error`]: [`RegistryError`], with each variant's stable code and the field at fault (the
//!   HTTP statuses are the stand's: `stand::error::registry_status`).
//! - `registrations`: the slab of registrations in progress, one memory access per code check.
//! - [`registry`]: [`Registry`], the stores of the stand and the helpers its steps share; one
//!   method per command, each `impl Registry` block in the file of its step:
//!   - `signup`: step 1, the registration form, codes and links, the password, a second login;
//!   - `sessions`: login and sessions;
//!   - `view`: the read model of an account;
//!   - `verify`: step 2, personal data and the replies of PFR and FMS;
//!   - `confirm`: step 3 by the citizen or an operator (letter, signature, center, MFC);
//!   - `partner`: the banks' workflow;
//!   - `expiry`: the deadline indexes and housekeeping;
//!   - `invariants`: what the property tests check after every command;
//!   - `outcome`: what the commands return.
//! - `testkit`: the driver the engine's tests share (its unit tests, `tests/journeys.rs`,
//!   `tests/registry_props.rs`): the registry, a clock moved by hand, a seeded RNG, the effects,
//!   and the agencies' answers from their models; hidden from the docs, not the API.
//!
//! The flow, command -> outcome + effects (every command takes `now`; those that make codes or
//! ids take a CSPRNG):
//!
//! | command | outcome | effects |
//! |---|---|---|
//! | `start_registration` | registration id, channel, expiry | `SendSms` code / `SendMail` link |
//! | `confirm_code`, `follow_email_link` | contact confirmed (after the password: a second login) | |
//! | `resend_code` | new expiry | `SendSms` / `SendMail` |
//! | `check_password`, then the caller hashes, `set_password` | oid, `simplified` | the second contact's `SendSms` / `SendMail` |
//! | `check_new_password`, then the caller verifies and hashes, `change_password` | | |
//! | `login_lookup`, then the caller verifies, `open_session` | session token | |
//! | `submit_personal_data` | two request ids | `VerifyPfr`, `VerifyFms` |
//! | `apply_pfr`, `apply_fms` (any order, repeats ignored) | passed -> `standard`, or failed with a reason | `SendSms`/`SendMail` notice |
//! | `order_letter` (again: re-order) | confirmation id, code expiry | `OrderLetter` with the code |
//! | `enter_letter_code` | `confirmed`, `no_fns_cabinet` | notice |
//! | `sign`, then `apply_certificate` | request id; `confirmed` or the CA's refusal | `CheckCertificate`; notice |
//! | `operator_confirm` (a center of the directory) | `confirmed` | notice |
//! | `mfc_register` (an MFC of the directory) | a `confirmed` account, login | notice |
//! | `bank_confirm`, then `apply_pfr` + `apply_fms` | confirmation id; the account confirmed or made | `VerifyPfr`, `VerifyFms`; notice |
//! | `expire`, `expire_some` (at most N items: a bounded hold of the stand's lock) | counts dropped, whether more is due | notices of timed-out verifications |
//! | `next_deadline`, `next_expiry` | when `expire` next has a verification to time out; anything to do | |

pub mod account;
pub mod census;
pub mod code;
pub mod config;
mod confirm;
pub mod confirmation;
pub mod effect;
pub mod error;
mod expiry;
pub mod ids;
mod invariants;
mod outcome;
mod partner;
pub mod password;
pub mod personal;
mod registrations;
#[allow(clippy::module_inception)]
pub mod registry;
mod sessions;
mod signup;
#[doc(hidden)]
pub mod testkit;
pub mod verification;
mod verify;
mod view;

pub use account::{AccountState, Tier};
pub use census::Census;
pub use code::{CodeCheck, OneTimeCode, ResendRefused, Written};
pub use config::{CodePolicy, RegistryConfig, StoreCaps};
pub use confirmation::{ConfirmationMethod, Restrictions};
pub use effect::{Effect, Topic};
pub use error::{FieldError, RegistryError, Store};
pub use ids::{ConfirmationId, Oid, RegistrationId, RequestId, SessionToken};
pub use password::{HashProfile, PasswordError, PasswordHash};
pub use personal::{Address, PersonalData, PersonalDataForm};
pub use registry::{Registry, ReplyOutcome};
pub use verification::{Agency, FailureReason, Verification, VerificationStatus};
