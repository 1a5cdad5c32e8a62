//! Time control over HTTP (`POST /mocks/admin/clock/advance`): an advance runs everything due in
//! the skipped interval in time order, each thing at its own time. Regression tests of issue 17:
//! a 15-day advance used to time out every verification, although PFR and FMS had answered
//! within hours.

mod support;

use esia_mocks::clock::{Epoch, SimTime, MS_PER_DAY};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{pick, Stand, PASSWORD, SCENARIO};

/// The harness's agencies, but PFR and FMS with their calibrated latency (minutes to days,
/// clamped at 10 days) and without errors, so every answer comes before the 14-day deadline.
fn calibrated_verification() -> String {
    SCENARIO
        .replace(
            "[agencies.pfr]\nlatency = { kind = \"fixed\", value = \"10m\" }\n",
            "[agencies.pfr]\n",
        )
        .replace(
            "[agencies.fms]\nlatency = { kind = \"fixed\", value = \"10m\" }\n",
            "[agencies.fms]\n",
        )
}

fn time(text: &Value) -> SimTime {
    Epoch::default()
        .parse_rfc3339(text.as_str().expect("a timestamp"))
        .expect("an RFC 3339 timestamp")
}

/// A citizen's verification as the stand ended it.
#[derive(Debug, PartialEq)]
struct Outcome {
    tier: Value,
    status: Value,
    reason: Value,
    pfr: Value,
    fms: Value,
    /// When the citizen was told (the newest SMS), in seconds after PFR accepted the request
    /// (rounded: PFR accepts a few milliseconds after the engine's submission).
    told_after_s: u64,
}

/// The SMS of `phone`, oldest first.
async fn inbox(stand: &Stand, phone: &str) -> Vec<Value> {
    let (s, b) = stand
        .get(&format!(
            "/mocks/sms/inbox/{}",
            phone.trim_start_matches('+')
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["messages"].as_array().cloned().unwrap_or_default()
}

/// A request as PFR or FMS shows it.
async fn request(stand: &Stand, agency: &str, id: &str) -> Value {
    let (s, b) = stand.get(&format!("/mocks/{agency}/requests/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

/// Citizen `c` made simplified and their personal data submitted: (oid, pfr id, fms id).
async fn submitted(stand: &Stand, c: &Value) -> (u64, String, String) {
    let (oid, token) = stand.simplified(c).await;
    let (pfr, fms) = stand.submit(oid, &token, c).await;
    (oid, pfr, fms)
}

async fn outcome(stand: &Stand, c: &Value, oid: u64, pfr: &str) -> Outcome {
    let phone = c["phone"].as_str().unwrap();
    let token = stand.login(phone, PASSWORD).await;
    let a = stand.account(oid, &token).await;
    let accepted = time(&request(stand, "pfr", pfr).await["accepted_at"]);
    let sms = inbox(stand, phone).await;
    let told = time(&sms.last().expect("a notification")["sent_at"]);
    Outcome {
        tier: a["tier"].clone(),
        status: a["verification"]["status"].clone(),
        reason: a["verification"]["reason"].clone(),
        pfr: a["verification"]["pfr"].clone(),
        fms: a["verification"]["fms"].clone(),
        told_after_s: (told.ms_since(accepted) + 500) / 1_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_15_day_advance_confirms_every_verification_answered_before_it() {
    let stand = Stand::start_with(&calibrated_verification(), &[]);
    let citizens: Vec<Value> = (0..10).map(|i| pick(i, |_| true)).collect();
    let mut submitted_ = Vec::new();
    for c in &citizens {
        submitted_.push(submitted(&stand, c).await);
    }
    stand.advance(15 * 86_400).await;
    for (c, (oid, pfr, fms)) in citizens.iter().zip(&submitted_) {
        let (p, f) = (
            request(&stand, "pfr", pfr).await,
            request(&stand, "fms", fms).await,
        );
        let accepted = time(&p["accepted_at"]);
        let answered = time(&p["answered_at"]).max(time(&f["answered_at"]));
        assert!(answered.ms_since(accepted) < 14 * MS_PER_DAY, "{p} {f}");
        let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
        let a = stand.account(*oid, &token).await;
        assert_eq!(a["verification"]["status"], "passed", "{a}");
        assert_eq!(a["tier"], "standard", "{a}");
        // The citizen was told when the slower agency answered, not when the advance ended.
        let sms = inbox(&stand, c["phone"].as_str().unwrap()).await;
        let told = sms.last().unwrap();
        assert!(
            told["text"].as_str().unwrap().contains("проверены"),
            "{told}"
        );
        assert_eq!(time(&told["sent_at"]), answered, "{told} {p} {f}");
    }
    let (_, clock) = stand.get("/mocks/admin/clock").await;
    assert_eq!(clock["advanced_ms"], 15 * MS_PER_DAY, "{clock}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_before_the_answer_still_fails_the_verification_at_the_deadline() {
    let stand = Stand::start();
    stand
        .profile(
            "pfr",
            json!({ "latency": { "kind": "fixed", "value": "20d" } }),
        )
        .await;
    let c = pick(0, |_| true);
    let (oid, pfr, _) = submitted(&stand, &c).await;
    stand.advance(15 * 86_400).await;
    let o = outcome(&stand, &c, oid, &pfr).await;
    assert_eq!(o.status, "failed", "{o:?}");
    assert_eq!(o.reason, "timeout", "{o:?}");
    assert_eq!(o.pfr, Value::Null, "{o:?}");
    assert_eq!(o.fms, "valid", "FMS answered after 10 minutes: {o:?}");
    // Told at the deadline itself, 14 days after the submission.
    assert_eq!(o.told_after_s, 14 * 86_400, "{o:?}");
    // PFR's answer on day 20 changes nothing.
    stand.advance(6 * 86_400).await;
    assert_eq!(
        request(&stand, "pfr", &pfr).await["status"],
        "responseIsDelivered"
    );
    let later = outcome(&stand, &c, oid, &pfr).await;
    assert_eq!(later, o);
}

/// Four citizens whose PFR answers after 1 hour, 2 days, 13 days 23 hours and 16 days (FMS
/// after 10 minutes), on a new stand; then the clock is moved 20 days in `steps` equal steps.
async fn four_verifications(steps: u64) -> Vec<Outcome> {
    let stand = Stand::start();
    let mut submitted_ = Vec::new();
    for (i, pfr_latency) in ["1h", "2d", "335h", "16d"].into_iter().enumerate() {
        stand
            .profile(
                "pfr",
                json!({ "latency": { "kind": "fixed", "value": pfr_latency } }),
            )
            .await;
        let c = pick(20 + i, |_| true);
        let (oid, pfr, _) = submitted(&stand, &c).await;
        submitted_.push((c, oid, pfr));
    }
    for _ in 0..steps {
        stand.advance(20 * 86_400 / steps).await;
    }
    let mut out = Vec::new();
    for (c, oid, pfr) in &submitted_ {
        out.push(outcome(&stand, c, *oid, pfr).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_small_advances_and_one_big_end_in_the_same_state() {
    let one = four_verifications(1).await;
    let hourly = four_verifications(20 * 24).await;
    assert_eq!(one, hourly);
    let passed: Vec<&Value> = one.iter().map(|o| &o.status).collect();
    assert_eq!(passed, ["passed", "passed", "passed", "failed"], "{one:?}");
    // Each told at its own time: when PFR answered, or at the 14-day deadline.
    let told: Vec<u64> = one.iter().map(|o| o.told_after_s).collect();
    let hour = 3_600;
    assert_eq!(
        told,
        [hour, 48 * hour, 335 * hour, 14 * 24 * hour],
        "{one:?}"
    );
    assert_eq!(one[3].reason, "timeout");
    // PFR's answer on day 16 came after its request was dropped (a day after the deadline):
    // ignored whether the advance stopped between the two or not.
    assert_eq!(one[3].pfr, Value::Null, "{one:?}");
}
