//! Fuzz target: durations (`"15m"`, `"2d"`), delay laws (the `latency` tables of a scenario or a
//! profile, as JSON) and opening hours (`"Mo-Fr 09:00-20:00; Sa 10:00-17:00"`). None panics.

mod support;

use esia_sim::mocks::agency::centers::Hours;
use esia_sim::mocks::agency::duration::parse_ms;
use esia_sim::mocks::agency::latency::Latency;
use proptest::prelude::*;

proptest! {
    #![proptest_config(support::config())]

    #[test]
    fn durations(text in support::text_from(support::corpus("durations"))) {
        let _ = parse_ms(&text);
    }

    #[test]
    fn delay_laws(text in support::text_from(support::corpus("delay_laws"))) {
        let _ = serde_json::from_str::<Latency>(&text);
    }

    #[test]
    fn opening_hours(text in support::text_from(support::corpus("opening_hours"))) {
        let _ = text.parse::<Hours>();
    }
}
