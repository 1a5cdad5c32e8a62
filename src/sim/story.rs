//! One citizen alone: its story from arrival to its ending, decided by the same code as a
//! simulation ([`Live`]'s event handling), for `esia-sim load`'s model mix. Agencies are met
//! without their capacity (a lone citizen queues behind nobody); everything else — the path,
//! the typos, the resends, the weak passwords, the resubmissions, the lost letters, patience —
//! is what the simulator decides for this citizen of this seed.

use super::citizen::{Live, Outcome, Story};
use super::queue::Queue;
use super::stations::Stations;
use super::World;
use crate::funnel::Funnel;
use esia_mocks::clock::SimTime;

/// Runs citizen `k`, arriving at `arrival`, alone to its ending or the horizon. `scratch`
/// takes the funnel records a simulation keeps (verification and letter times); reuse one.
pub fn story(world: &World, k: u64, arrival: SimTime, scratch: &mut Funnel) -> Story {
    let mut queue = Queue::default();
    let mut stations = Stations::none();
    let mut live = Live::arrive(world, k, arrival);
    live.start(world, arrival, 0, &mut queue, &stations);
    while let Some(event) = queue.pop() {
        if event.time > world.horizon {
            break;
        }
        if let Outcome::Done = live.handle(world, event, &mut queue, scratch, &mut stations) {
            break;
        }
    }
    live.story()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funnel::{Ending, Path};
    use crate::scenario::Scenario;

    /// A lone citizen's story is the simulation's: each citizen takes the path it takes in a
    /// simulation of the same seed (the path is drawn at arrival), most walk it to its end,
    /// and the same citizen tells the same story twice.
    #[test]
    fn a_story_follows_the_simulation_and_repeats() {
        let scenario = Scenario::default();
        let world = World::new(&scenario, 5).unwrap();
        let citizens = 2_000;
        let mut scratch = Funnel::new(world.days());
        let stories: Vec<Story> = (0..citizens)
            .map(|k| story(&world, k, SimTime::ZERO, &mut scratch))
            .collect();
        assert_eq!(story(&world, 17, SimTime::ZERO, &mut scratch), stories[17]);
        let run = crate::sim::run(&world, citizens, 1, &crate::sim::Progress::new(1)).unwrap();
        for (i, p) in Path::ALL.iter().enumerate() {
            let told = stories.iter().filter(|s| s.trace.path == *p).count() as u64;
            assert_eq!(told, run.funnel.paths[i].citizens, "{p:?}");
            assert!(told > 0, "{p:?}");
        }
        let share = |f: &dyn Fn(&Story) -> bool| {
            stories.iter().filter(|s| f(s)).count() as f64 / stories.len() as f64
        };
        assert!(share(&|s| s.trace.ending == Ending::Completed) > 0.5);
        assert!(share(&|s| matches!(s.trace.ending, Ending::Exited(_))) > 0.0);
        assert!(share(&|s| s.wrong_code) > 0.0);
        assert!(share(&|s| s.resubmitted) > 0.0);
    }
}
