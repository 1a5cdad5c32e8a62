//! The inboxes of the SMS and mail mocks: messages by recipient, each inbox a ring buffer, with
//! caps on recipients and on messages in all. A message shows in its inbox once its delivery
//! time has come (never, if it was lost); old inboxes are swept when a cap is reached, and a
//! store still full answers 503.

use crate::clock::{SimTime, MS_PER_DAY};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// The caps of an inbox store. Defaults: 100,000 recipients, 20 messages each, 200,000 in all,
/// inboxes idle for 7 days swept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxCaps {
    /// Recipients with an inbox.
    pub recipients: usize,
    /// Messages kept per recipient: the oldest falls off.
    pub per_recipient: usize,
    /// Messages kept in all.
    pub messages: usize,
    /// An inbox whose newest message is older than this is dropped when the store is full.
    pub retention_ms: u64,
}

impl Default for InboxCaps {
    fn default() -> Self {
        Self {
            recipients: 100_000,
            per_recipient: 20,
            messages: 200_000,
            retention_ms: 7 * MS_PER_DAY,
        }
    }
}

/// Where a message ends up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    Inbox,
    Spam,
    /// Never delivered (the gateway accepted it, then lost it).
    Lost,
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

/// The store is at a cap even after sweeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// Messages by recipient.
#[derive(Debug, Default)]
pub struct Inboxes {
    by_recipient: HashMap<Box<str>, VecDeque<Message>>,
    total: usize,
    next_id: u64,
    last_sweep: Option<SimTime>,
    caps: InboxCaps,
}

impl Inboxes {
    /// An empty store with `caps`.
    pub fn new(caps: InboxCaps) -> Self {
        Self {
            caps: InboxCaps {
                per_recipient: caps.per_recipient.max(1),
                ..caps
            },
            ..Self::default()
        }
    }

    /// Recipients and messages held.
    pub fn sizes(&self) -> (usize, usize) {
        (self.by_recipient.len(), self.total)
    }

    /// Keeps a message for `to`; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        now: SimTime,
        to: &str,
        subject: Option<&str>,
        text: &str,
        deliver_at: SimTime,
        folder: Folder,
    ) -> Result<u64, Full> {
        let new_recipient = !self.by_recipient.contains_key(to);
        if (new_recipient && self.by_recipient.len() >= self.caps.recipients)
            || self.total >= self.caps.messages
        {
            self.sweep(now);
            let still_full = (new_recipient && self.by_recipient.len() >= self.caps.recipients)
                || self.total >= self.caps.messages;
            if still_full {
                return Err(Full);
            }
        }
        self.next_id += 1;
        let message = Message {
            message_id: self.next_id,
            subject: subject.map(Into::into),
            text: text.into(),
            sent_at: now,
            deliver_at,
            folder,
        };
        let inbox = self.by_recipient.entry(to.into()).or_default();
        if inbox.len() >= self.caps.per_recipient {
            inbox.pop_front();
            self.total -= 1;
        }
        inbox.push_back(message);
        self.total += 1;
        Ok(self.next_id)
    }

    /// The messages of `to` delivered by `now`, oldest first.
    pub fn delivered(&self, to: &str, now: SimTime) -> Vec<Message> {
        self.by_recipient
            .get(to)
            .map(|inbox| {
                inbox
                    .iter()
                    .filter(|m| m.folder != Folder::Lost && m.deliver_at <= now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Drops inboxes idle for longer than the retention (at most once a sim second).
    fn sweep(&mut self, now: SimTime) {
        if self
            .last_sweep
            .is_some_and(|t| now.ms_since(t) < crate::clock::MS_PER_SEC)
        {
            return;
        }
        self.last_sweep = Some(now);
        let retention = self.caps.retention_ms;
        let mut dropped = 0;
        self.by_recipient.retain(|_, inbox| {
            let keep = inbox
                .back()
                .is_some_and(|m| now.ms_since(m.sent_at) <= retention);
            if !keep {
                dropped += inbox.len();
            }
            keep
        });
        self.total -= dropped;
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

    #[test]
    fn an_inbox_is_a_ring_and_shows_only_delivered_messages() {
        let mut s = Inboxes::new(InboxCaps {
            per_recipient: 2,
            ..InboxCaps::default()
        });
        s.push(t(0), "a", None, "1", t(0), Folder::Inbox).unwrap();
        s.push(t(0), "a", None, "2", t(10), Folder::Inbox).unwrap();
        s.push(t(0), "a", None, "lost", t(0), Folder::Lost).unwrap();
        assert_eq!(s.sizes(), (1, 2));
        assert!(s.delivered("a", t(5)).is_empty());
        let shown = s.delivered("a", t(10));
        assert_eq!(shown.len(), 1);
        assert_eq!(&*shown[0].text, "2");
        assert!(s.delivered("b", t(10)).is_empty());
    }

    #[test]
    fn a_full_store_sweeps_idle_inboxes_then_refuses() {
        let mut s = Inboxes::new(InboxCaps {
            recipients: 2,
            per_recipient: 5,
            messages: 100,
            retention_ms: 1_600,
        });
        s.push(t(0), "a", None, "x", t(0), Folder::Inbox).unwrap();
        s.push(t(0), "b", None, "x", t(0), Folder::Inbox).unwrap();
        assert_eq!(
            s.push(t(500), "c", None, "x", t(0), Folder::Inbox),
            Err(Full)
        );
        // An existing recipient still gets messages.
        s.push(t(500), "b", None, "y", t(0), Folder::Inbox).unwrap();
        // Later, "a" has been idle past the retention: swept, room for "c".
        s.push(t(2_000), "c", None, "x", t(0), Folder::Inbox)
            .unwrap();
        assert_eq!(s.sizes(), (2, 3));
    }
}
