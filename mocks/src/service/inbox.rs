//! The inboxes of the SMS and mail mocks: messages by recipient, each inbox a ring buffer, with
//! caps on recipients and on messages in all. A message shows in its inbox once its delivery
//! time has come (never, if it was lost). When a cap is reached the least recently used inboxes
//! are dropped to make room: a test or a load run reads its code within seconds, so the store
//! stays bounded under any load (each message to a new number, for hours) without refusing.
//!
//! A gateway whose profile has a `capacity` delivers each message when its service at a
//! server ends (the latency drawn is the service time), and refuses what is beyond its queue
//! or quota (429 with `Retry-After`; see [`super::station`]).

use super::admin::{Admin, ProfileCell};
use super::error::MockError;
use super::faults::Faults;
use super::journal::Journal;
use super::station::Stations;
use super::{Context, MockKind};
use crate::agency::capacity::Capacity;
use crate::agency::mail::MailProfile;
use crate::agency::profile::{Outage, ProfileTable};
use crate::agency::sms::SmsProfile;
use crate::clock::SimTime;
use crate::wire::mail::Folder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// A message's id: `prefix`, a dash and its number in at least ten digits (`sms-0000000042`).
pub fn message_id(prefix: &str, n: u64) -> String {
    let mut id = crate::ident::Digits::new();
    id.text(prefix).text("-").num(n, 10);
    id.into_string()
}

/// What a messaging mock's profile is: a profile table (the common keys and its own).
pub trait GatewayProfile:
    ProfileTable + Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The gateway's capacity, if its profile has one.
    fn capacity(&self) -> Option<&Capacity>;
}

impl GatewayProfile for SmsProfile {
    fn capacity(&self) -> Option<&Capacity> {
        self.service.capacity.as_ref()
    }
}

impl GatewayProfile for MailProfile {
    fn capacity(&self) -> Option<&Capacity> {
        self.service.capacity.as_ref()
    }
}

/// A messaging mock (the SMS gateway, the mail service): its profile, its inboxes, its journal
/// and faults, and the admin operations they share.
#[derive(Debug)]
pub struct Gateway<P> {
    kind: MockKind,
    pub(super) context: Arc<Context>,
    pub(super) profile: ProfileCell<P>,
    inboxes: Mutex<Inboxes>,
    journal: Arc<Journal>,
    faults: Arc<Faults>,
    pub(super) stations: Stations,
}

impl<P: GatewayProfile> Gateway<P> {
    /// Mock `kind` with `profile` and inboxes capped by `caps`.
    pub fn new(kind: MockKind, context: Arc<Context>, profile: P, caps: InboxCaps) -> Arc<Self> {
        Arc::new(Self {
            kind,
            stations: Stations::one(kind.as_str(), context.world.clock().scale()),
            journal: context.journal(),
            faults: Faults::new(context.clone(), kind.as_str()),
            context,
            profile: ProfileCell::new(profile),
            inboxes: Mutex::new(Inboxes::new(caps)),
        })
    }

    /// Recipients and messages held.
    pub fn sizes(&self) -> (usize, usize) {
        self.inboxes().sizes()
    }

    /// The gateway's station (its capacity at work).
    pub fn stations(&self) -> &Stations {
        &self.stations
    }

    /// The inboxes, locked.
    pub(super) fn inboxes(&self) -> MutexGuard<'_, Inboxes> {
        self.inboxes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<P: GatewayProfile> Admin for Gateway<P> {
    fn kind(&self) -> MockKind {
        self.kind
    }
    fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }
    fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }
    fn profile_json(&self) -> Value {
        self.profile.json()
    }
    fn patch_profile(&self, patch: Map<String, Value>) -> Result<(), MockError> {
        self.profile.patch(patch)
    }
    fn add_outage(&self, outage: Outage) -> Result<(), MockError> {
        self.profile.add_outage(outage)
    }
    fn reset_state(&self) {
        self.inboxes().clear();
        self.stations.clear();
        self.profile.restore();
    }
    fn now(&self) -> SimTime {
        self.context.world.now()
    }
}

/// The caps of an inbox store. Defaults: 100,000 recipients, 20 messages each, 200,000 in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCaps {
    /// Recipients with an inbox; past it the least recently used inbox is dropped.
    pub recipients: usize,
    /// Messages kept per recipient: the oldest falls off.
    pub per_recipient: usize,
    /// Messages kept in all; past it the least recently used inboxes are dropped.
    pub messages: usize,
}

impl Default for InboxCaps {
    fn default() -> Self {
        Self {
            recipients: 100_000,
            per_recipient: 20,
            messages: 200_000,
        }
    }
}

/// One message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub message_id: u64,
    pub subject: Option<Box<str>>,
    pub text: Box<str>,
    pub sent_at: SimTime,
    pub deliver_at: SimTime,
    pub folder: Folder,
}

#[derive(Debug)]
struct Inbox {
    /// The recipient, the same allocation as the map's key and the order's entries.
    key: Arc<str>,
    messages: VecDeque<Message>,
    /// The use counter at its last message.
    touched: u64,
}

/// Messages by recipient.
#[derive(Debug, Default)]
pub struct Inboxes {
    by_recipient: HashMap<Arc<str>, Inbox>,
    /// Recipients in order of use, with the use counter at the time; an entry whose counter is
    /// not its inbox's any more is stale and skipped. Compacted when it grows past twice the
    /// inboxes.
    order: VecDeque<(Arc<str>, u64)>,
    uses: u64,
    total: usize,
    next_id: u64,
    dropped: u64,
    caps: InboxCaps,
}

impl Inboxes {
    /// An empty store with `caps`.
    pub fn new(caps: InboxCaps) -> Self {
        Self {
            caps: InboxCaps {
                recipients: caps.recipients.max(1),
                per_recipient: caps.per_recipient.max(1),
                messages: caps.messages.max(1),
            },
            ..Self::default()
        }
    }

    /// Recipients and messages held.
    pub fn sizes(&self) -> (usize, usize) {
        (self.by_recipient.len(), self.total)
    }

    /// Inboxes dropped to make room, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Keeps a message for `to`; returns its id.
    pub fn push(
        &mut self,
        now: SimTime,
        to: &str,
        subject: Option<&str>,
        text: &str,
        deliver_at: SimTime,
        folder: Folder,
    ) -> u64 {
        // Each map access is likely a cache miss in a store of 100,000 inboxes: as few as can be.
        while self.total >= self.caps.messages {
            if !self.drop_least_recent(to) {
                break;
            }
        }
        self.next_id += 1;
        self.uses += 1;
        let uses = self.uses;
        let message = Message {
            message_id: self.next_id,
            subject: subject.map(Into::into),
            text: text.into(),
            sent_at: now,
            deliver_at,
            folder,
        };
        let key = if let Some(inbox) = self.by_recipient.get_mut(to) {
            if inbox.messages.len() >= self.caps.per_recipient {
                inbox.messages.pop_front();
                self.total -= 1;
            }
            inbox.messages.push_back(message);
            inbox.touched = uses;
            inbox.key.clone()
        } else {
            while self.by_recipient.len() >= self.caps.recipients {
                if !self.drop_least_recent(to) {
                    break;
                }
            }
            let key: Arc<str> = to.into();
            // Most recipients get one or two messages (a code, a notice).
            let mut messages = VecDeque::with_capacity(2);
            messages.push_back(message);
            self.by_recipient.insert(
                key.clone(),
                Inbox {
                    key: key.clone(),
                    messages,
                    touched: uses,
                },
            );
            key
        };
        self.total += 1;
        self.order.push_back((key, uses));
        if self.order.len() > 2 * self.by_recipient.len() + 1_024 {
            self.compact();
        }
        self.next_id
    }

    /// Drops the least recently used inbox other than `keep`'s; false if there is none.
    /// (An entry of `keep` is dropped from the order: `keep` is being used, a new entry follows.)
    fn drop_least_recent(&mut self, keep: &str) -> bool {
        use std::collections::hash_map::Entry;
        while let Some((recipient, uses)) = self.order.pop_front() {
            if &*recipient == keep {
                continue;
            }
            if let Entry::Occupied(o) = self.by_recipient.entry(recipient) {
                if o.get().touched == uses {
                    let inbox = o.remove();
                    self.total -= inbox.messages.len();
                    self.dropped += 1;
                    return true;
                }
            }
        }
        false
    }

    /// Rebuilds the order without stale entries.
    fn compact(&mut self) {
        let mut live: Vec<(Arc<str>, u64)> = self
            .by_recipient
            .iter()
            .map(|(k, i)| (k.clone(), i.touched))
            .collect();
        live.sort_unstable_by_key(|(_, uses)| *uses);
        self.order = live.into();
    }

    /// The messages of `to` delivered by `now`, oldest first.
    pub fn delivered(&self, to: &str, now: SimTime) -> Vec<Message> {
        self.by_recipient
            .get(to)
            .map(|inbox| {
                inbox
                    .messages
                    .iter()
                    .filter(|m| m.folder != Folder::Lost && m.deliver_at <= now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self = Self::new(self.caps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SimTime {
        SimTime::from_millis(ms)
    }

    /// Ids keep the form clients and the journal show: ten digits at least, all of them past.
    #[test]
    fn message_ids_have_ten_digits_at_least() {
        assert_eq!(message_id("sms", 0), "sms-0000000000");
        assert_eq!(message_id("mail", 42), "mail-0000000042");
        assert_eq!(message_id("sms", 9_999_999_999), "sms-9999999999");
        assert_eq!(message_id("sms", 12_345_678_901), "sms-12345678901");
        assert_eq!(message_id("sms", u64::MAX), format!("sms-{}", u64::MAX));
    }

    #[test]
    fn an_inbox_is_a_ring_and_shows_only_delivered_messages() {
        let mut s = Inboxes::new(InboxCaps {
            per_recipient: 2,
            ..InboxCaps::default()
        });
        s.push(t(0), "a", None, "1", t(0), Folder::Inbox);
        s.push(t(0), "a", None, "2", t(10), Folder::Inbox);
        s.push(t(0), "a", None, "lost", t(0), Folder::Lost);
        assert_eq!(s.sizes(), (1, 2));
        assert!(s.delivered("a", t(5)).is_empty());
        let shown = s.delivered("a", t(10));
        assert_eq!(shown.len(), 1);
        assert_eq!(&*shown[0].text, "2");
        assert!(s.delivered("b", t(10)).is_empty());
    }

    #[test]
    fn a_full_store_drops_the_least_recently_used_inboxes() {
        let mut s = Inboxes::new(InboxCaps {
            recipients: 2,
            per_recipient: 5,
            messages: 100,
        });
        s.push(t(0), "a", None, "x", t(0), Folder::Inbox);
        s.push(t(0), "b", None, "x", t(0), Folder::Inbox);
        // "a" is used again: "b" is now the least recent.
        s.push(t(1), "a", None, "y", t(0), Folder::Inbox);
        s.push(t(2), "c", None, "x", t(0), Folder::Inbox);
        assert_eq!(s.sizes(), (2, 3));
        assert!(s.delivered("b", t(5)).is_empty());
        assert_eq!(s.delivered("a", t(5)).len(), 2);
        assert_eq!(s.dropped(), 1);
        // The message cap drops whole inboxes too.
        let mut m = Inboxes::new(InboxCaps {
            recipients: 100,
            per_recipient: 5,
            messages: 3,
        });
        for to in ["a", "a", "b", "c"] {
            m.push(t(0), to, None, "x", t(0), Folder::Inbox);
        }
        assert_eq!(m.sizes(), (2, 2));
        assert!(m.delivered("a", t(0)).is_empty());
    }

    #[test]
    fn a_million_new_recipients_stay_within_the_caps() {
        let caps = InboxCaps {
            recipients: 1_000,
            per_recipient: 2,
            messages: 1_500,
        };
        let mut s = Inboxes::new(caps);
        for i in 0..1_000_000u64 {
            s.push(t(i), &i.to_string(), None, "x", t(i), Folder::Inbox);
            assert!(s.order.len() <= 2 * 1_000 + 1_025);
        }
        assert_eq!(s.sizes(), (1_000, 1_000));
        assert_eq!(s.delivered("999999", t(1_000_000)).len(), 1);
    }
}
