//! The store of registrations in progress (step 1, before a password): a slab whose slot is
//! named by the low bits of the registration id, so a code check costs one memory access
//! however many registrations are active, with 40 random bits in the id so it cannot be guessed.

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

/// The slab of registrations.
#[derive(Default)]
pub(crate) struct Registrations {
    slots: Vec<(RegistrationId, Option<Registration>)>,
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
            Some((held, Some(r))) if *held == id => Some(r),
            _ => None,
        }
    }

    /// The registration `id` names, to change it.
    pub(crate) fn get_mut(&mut self, id: RegistrationId) -> Option<&mut Registration> {
        match self.slots.get_mut(id.slot()) {
            Some((held, Some(r))) if *held == id => Some(r),
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
                self.slots.push((RegistrationId(0), None));
                self.slots.len() - 1
            }
            None => return None,
        };
        let id = RegistrationId::for_slot(rng, slot);
        self.slots[slot] = (id, Some(reg));
        self.len += 1;
        Some(id)
    }

    /// Takes the registration `id` names out of the store.
    pub(crate) fn remove(&mut self, id: RegistrationId) -> Option<Registration> {
        let (held, slot) = self.slots.get_mut(id.slot())?;
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
            .filter_map(|(id, slot)| slot.as_ref().map(|r| (*id, r)))
    }
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
