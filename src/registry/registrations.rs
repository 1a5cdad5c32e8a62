//! The store of registrations in progress (step 1, before a password): a slab whose slot is
//! named by the low bits of the registration id, so a code check costs one memory access (one
//! aligned cache line, in huge pages once the slab passes 4 MiB) however many registrations are
//! active, with 40 random bits in the id so it cannot be guessed.

use super::code::OneTimeCode;
use super::ids::{Oid, RegistrationId};
use esia_mocks::ident::Phone;
use rand::Rng;

/// A registration's contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Contact {
    Phone(Phone),
    Email(Box<str>),
}

/// The parts of a registration not needed to check a code: kept behind one pointer so that a
/// slot is one cache line.
#[derive(Clone, Debug)]
pub(crate) struct RegistrationText {
    pub(crate) surname: Box<str>,
    pub(crate) name: Box<str>,
    /// The contact the code went to.
    pub(crate) contact: Contact,
    /// The other contact given, confirmed after the password (its code is sent then).
    pub(crate) second: Option<Contact>,
    /// Once the password made the account: the registration confirms `contact` as the
    /// account's second login.
    pub(crate) account: Option<Oid>,
}

/// A registration in progress.
#[derive(Clone, Debug)]
pub(crate) struct Registration {
    pub(crate) code: OneTimeCode,
    pub(crate) confirmed: bool,
    /// The contact's kind, kept beside the code so that a check never follows `text`.
    pub(crate) by_phone: bool,
    /// The password is set: the registration confirms a second login of `text.account`.
    pub(crate) of_account: bool,
    pub(crate) text: Box<RegistrationText>,
}

/// A slot of the slab: the id that holds it and its registration, one cache line, aligned to
/// one (unaligned, as `malloc` places a large buffer 16 bytes into its pages, every slot
/// straddled two lines, and a code check missed twice).
#[repr(align(64))]
struct Slot(RegistrationId, Option<Registration>);

impl Default for Slot {
    fn default() -> Self {
        Slot(RegistrationId(0), None)
    }
}

/// The slab of registrations.
#[derive(Default)]
pub(crate) struct Registrations {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

impl Registrations {
    /// Registrations held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The registration `id` names, if it is held.
    pub(crate) fn get(&self, id: RegistrationId) -> Option<&Registration> {
        match self.slots.get(id.slot()) {
            Some(Slot(held, Some(r))) if *held == id => Some(r),
            _ => None,
        }
    }

    /// The registration `id` names, to change it.
    pub(crate) fn get_mut(&mut self, id: RegistrationId) -> Option<&mut Registration> {
        match self.slots.get_mut(id.slot()) {
            Some(Slot(held, Some(r))) if *held == id => Some(r),
            _ => None,
        }
    }

    /// Stores `reg` under a fresh id; `None` when every slot an id can name is taken.
    pub(crate) fn insert(
        &mut self,
        rng: &mut impl Rng,
        reg: Registration,
    ) -> Option<RegistrationId> {
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None if self.slots.len() < RegistrationId::SLOTS_MAX => {
                if self.slots.len() == self.slots.capacity() {
                    self.grow();
                }
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
            None => return None,
        };
        let id = RegistrationId::for_slot(rng, slot);
        self.slots[slot] = Slot(id, Some(reg));
        self.len += 1;
        Some(id)
    }

    /// Doubles the slab's room. From a few megabytes on, the slab is moved into a new buffer
    /// that asks the kernel for huge pages before a byte of it is written: a code check is one
    /// random access into the slab, and with 4 KiB pages nearly every one also missed the TLB
    /// (a million registrations are 64 MB: 16,384 pages against 32 of 2 MiB; benches/README.md,
    /// `code_check`). `Vec`'s own growth would `mremap` the old pages, small, into the new
    /// buffer.
    fn grow(&mut self) {
        let room = (self.slots.capacity() * 2).clamp(64, RegistrationId::SLOTS_MAX);
        let bytes = room * std::mem::size_of::<Slot>();
        if bytes < HUGE_PAGES_FROM {
            self.slots.reserve_exact(room - self.slots.len());
            return;
        }
        let mut slots = Vec::with_capacity(room);
        advise_huge_pages(slots.as_ptr() as usize, bytes);
        slots.append(&mut self.slots);
        self.slots = slots;
    }

    /// Takes the registration `id` names out of the store.
    pub(crate) fn remove(&mut self, id: RegistrationId) -> Option<Registration> {
        let Slot(held, slot) = self.slots.get_mut(id.slot())?;
        if *held != id || slot.is_none() {
            return None;
        }
        *held = RegistrationId(0);
        self.free.push(id.slot() as u32);
        self.len -= 1;
        slot.take()
    }

    /// Every registration held, with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RegistrationId, &Registration)> {
        self.slots
            .iter()
            .filter_map(|Slot(id, slot)| slot.as_ref().map(|r| (*id, r)))
    }
}

/// The slab size from which it asks for huge pages (two of them).
const HUGE_PAGES_FROM: usize = 4 << 20;

/// Asks the kernel to back `[start, start + len)` with transparent huge pages where it can (the
/// whole 2 MiB pages inside the range). Advice only: where huge pages are off, or elsewhere than
/// Linux, nothing changes.
fn advise_huge_pages(start: usize, len: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const PAGE: usize = 4096;
        let from = start.next_multiple_of(PAGE);
        let to = (start + len) / PAGE * PAGE;
        if to > from {
            // SAFETY: MADV_HUGEPAGE changes how the kernel backs the pages of the range (our
            // own buffer, allocated and not yet written), never their contents; on an error
            // (huge pages not configured) the advice is simply not taken.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (start, len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::config::RegistryConfig;
    use esia_mocks::clock::SimTime;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn reg(value: u64) -> Registration {
        Registration {
            code: OneTimeCode::issue(SimTime::ZERO, value, &RegistryConfig::default().sms_code),
            confirmed: false,
            by_phone: false,
            of_account: false,
            text: Box::new(RegistrationText {
                surname: "Иванов".into(),
                name: "Иван".into(),
                contact: Contact::Email("a@b.ru".into()),
                second: None,
                account: None,
            }),
        }
    }

    /// A slot is one cache line, so a code check touches one.
    #[test]
    fn a_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 64);
        assert_eq!(std::mem::align_of::<Slot>(), 64);
    }

    /// Past the size where the slab moves into a buffer advised for huge pages, every
    /// registration is still found under its id, and freed slots are used again.
    #[test]
    fn growing_into_huge_pages_keeps_every_registration() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut store = Registrations::default();
        let n = HUGE_PAGES_FROM / std::mem::size_of::<Slot>() * 2 + 5;
        let ids: Vec<_> = (0..n as u64)
            .map(|i| store.insert(&mut rng, reg(i % 1_000_000)).unwrap())
            .collect();
        assert_eq!(store.len(), n);
        assert!(store.slots.capacity() * std::mem::size_of::<Slot>() >= 2 * HUGE_PAGES_FROM);
        for (i, id) in ids.iter().enumerate() {
            let r = store.get(*id).expect("held");
            assert_eq!(r.code, reg(i as u64 % 1_000_000).code, "registration {i}");
        }
        let gone = store.remove(ids[7]).expect("held");
        assert_eq!(gone.code, reg(7).code);
        assert!(store.get(ids[7]).is_none());
        let again = store.insert(&mut rng, reg(7)).unwrap();
        assert_eq!(again.slot(), ids[7].slot());
        assert_eq!(store.slots.len(), n);
    }

    #[test]
    fn ids_name_their_slot_and_stale_ids_miss() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut s = Registrations::default();
        let a = s.insert(&mut rng, reg(1)).unwrap();
        let b = s.insert(&mut rng, reg(2)).unwrap();
        assert_eq!((a.slot(), b.slot()), (0, 1));
        assert_eq!(s.get(a).unwrap().code.value(), 1);
        assert!(s.remove(a).is_some());
        assert!(s.get(a).is_none() && s.remove(a).is_none());
        // The slot is reused under a new id; the old id does not reach it.
        let c = s.insert(&mut rng, reg(3)).unwrap();
        assert_eq!(c.slot(), 0);
        assert_ne!(c, a);
        assert!(s.get(a).is_none());
        assert_eq!(s.len(), 2);
        // An id naming a slot past the end.
        assert!(s.get(RegistrationId((1 << 30) | 77)).is_none());
        let held: Vec<_> = s.iter().map(|(id, r)| (id, r.code.value())).collect();
        assert_eq!(held, [(c, 3), (b, 2)]);
        assert!(s.remove(b).is_some());
        assert_eq!(s.len(), 1);
        assert!(s.get(b).is_none());
        assert_eq!(
            std::mem::size_of::<(RegistrationId, Option<Registration>)>(),
            64
        );
    }
}
