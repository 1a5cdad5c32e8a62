//! Black-box tests of faults, one kind at a time, each showing what the engine does with it:
//! failed SMS requests are retried (and a garbled answer duplicates the message, SMS having no
//! idempotency key); an SMS outage loses the code until the citizen asks again; a post that
//! times out or garbles its answer gets the same letter again (idempotent by reference); a cut
//! connection to the CA is retried; a CA that stays down drops the check; PFR errors fail the
//! verification as `pfr_unavailable`; a mismatch about one person fails PFR, FMS and the
//! bank's request; a bank's outage window refuses until it ends; a service center turns
//! visitors away (queue, closed hours); a slow post and a slow wire; the admin API itself
//! (profile, journal filters, reset). Everything over HTTP against `esia-sim serve`.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

/// Registers citizen `c` by phone; the registration id.
async fn register(stand: &Stand, c: &Value) -> String {
    let (s, b) = stand
        .post(
            "/api/v1/registrations",
            json!({ "surname": c["surname"], "name": c["name"], "phone": c["phone"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["registration_id"].as_str().unwrap().to_owned()
}

fn faults_of(entries: &[Value]) -> Vec<Option<String>> {
    entries
        .iter()
        .map(|e| e["fault"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sms_requests_are_retried_and_a_garbled_answer_duplicates_the_message() {
    let stand = Stand::start();
    stand
        .fault(
            "sms",
            json!([
                { "kind": "fail_next", "count": 2, "failure": "error", "path": "/mocks/sms/messages" },
                { "kind": "fail_next", "count": 1, "failure": "reset" },
                { "kind": "fail_next", "count": 1, "failure": "malformed" }
            ]),
        )
        .await;
    let (s, f) = stand.get("/mocks/sms/admin/faults").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(f["fail_next"].as_array().unwrap().len(), 3, "{f}");
    let c = pick(0, |_| true);
    let id = register(&stand, &c).await;
    // Two 503s, a cut connection, a garbled 202 (the message is kept, the engine cannot read
    // the answer and sends again), then a clean 202.
    let entries = eventually(|| async {
        let e = stand.journal("sms", "/mocks/sms/messages").await;
        (e.len() >= 5).then_some(e)
    })
    .await;
    assert_eq!(
        faults_of(&entries),
        [
            Some("error".into()),
            Some("error".into()),
            Some("reset".into()),
            Some("malformed".into()),
            None
        ]
    );
    let statuses: Vec<u64> = entries
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(&statuses[..2], [503, 503]);
    assert_eq!(statuses[4], 202);
    let text = stand.last_sms(c["phone"].as_str().unwrap(), 2).await;
    let (_, inbox) = stand
        .get(&format!(
            "/mocks/sms/inbox/{}",
            c["phone"].as_str().unwrap().trim_start_matches('+')
        ))
        .await;
    let msgs = inbox["messages"].as_array().unwrap();
    assert_eq!(
        msgs.len(),
        2,
        "the garbled answer's message and the retry's: {inbox}"
    );
    assert_eq!(msgs[0]["text"], msgs[1]["text"]);
    // The same SMS twice: its code is the registration's.
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id}/code"),
            json!({ "code": digits_of_len(&text, 6) }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, f) = stand.get("/mocks/sms/admin/faults").await;
    assert_eq!(f["fail_next"], json!([]), "every counter used up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_outage_loses_the_code_until_the_citizen_asks_again() {
    let stand = Stand::start();
    stand
        .fault("sms", json!({ "kind": "outage", "duration": "10m" }))
        .await;
    let (_, p) = stand.get("/mocks/sms/admin/profile").await;
    assert_eq!(p["outages"].as_array().unwrap().len(), 1, "{p}");
    let c = pick(1, |_| true);
    let phone = c["phone"].as_str().unwrap();
    let id = register(&stand, &c).await;
    // The engine tries 6 times, then gives up and counts the failure.
    let entries = eventually(|| async {
        let e = stand.journal("sms", "/mocks/sms/messages").await;
        (e.len() >= 6).then_some(e)
    })
    .await;
    assert!(entries.iter().all(|e| e["status"] == 503), "{entries:?}");
    let metrics = eventually(|| async {
        let (_, m) = stand.get("/metrics").await;
        let m = m.as_str().unwrap_or_default().to_owned();
        m.contains("esia_effects_total{kind=\"sms\",outcome=\"failed\"} 1")
            .then_some(m)
    })
    .await;
    assert!(metrics.contains("outcome=\"failed\""));
    let (_, inbox) = stand
        .get(&format!(
            "/mocks/sms/inbox/{}",
            phone.trim_start_matches('+')
        ))
        .await;
    assert_eq!(inbox["messages"], json!([]));
    // After the outage a resend brings a code.
    stand.advance(601).await;
    let (s, b) = stand
        .post(&format!("/api/v1/registrations/{id}/resend"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let code = digits_of_len(&stand.last_sms(phone, 1).await, 6);
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id}/code"),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_times_out_or_garbles_gets_the_same_letter_again() {
    let stand = Stand::start();
    let c = pick(2, |_| true);
    let (oid, token) = stand.standard(&c).await;
    // A garbled answer: the post kept the letter, the engine sends the order again with the
    // same reference and gets the same tracking number.
    stand
        .fault(
            "post",
            json!({ "kind": "fail_next", "count": 1, "failure": "malformed" }),
        )
        .await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let n = b["tracking_number"].as_str().unwrap().to_owned();
    let entries = stand.journal("post", "/mocks/post/letters").await;
    assert_eq!(faults_of(&entries), [Some("malformed".into()), None]);
    assert_eq!(
        entries[0]["body"]["reference"],
        entries[1]["body"]["reference"]
    );
    assert_eq!(entries[0]["status"], 201);

    // A post that does not answer: the engine's attempt times out (2 s) and the next one
    // gets the letter; the order still answers with its tracking number.
    let d = pick(3, |_| true);
    let (oid, token) = stand.standard(&d).await;
    stand
        .fault(
            "post",
            json!({ "kind": "fail_next", "count": 1, "failure": "timeout" }),
        )
        .await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let m = b["tracking_number"].as_str().unwrap().to_owned();
    assert_ne!(m, n);
    let (s, t) = stand.get(&format!("/mocks/post/tracking/{m}")).await;
    assert_eq!((s, &t["status"]), (StatusCode::OK, &json!("accepted")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_loses_everything_and_stays_down() {
    let stand = Stand::start();
    let c = pick(4, |_| true);
    let (oid, token) = stand.standard(&c).await;
    // Every letter lost: accepted, tracked, never arrives.
    stand.profile("post", json!({ "loss_rate": 1.0 })).await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let n = b["tracking_number"].as_str().unwrap().to_owned();
    stand.advance(10 * 86_400).await;
    let (s, b) = stand.pickup(&n, &c).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["code"], "letter_lost");
    // The post refuses every order: after its retries the engine says so.
    stand
        .profile("post", json!({ "loss_rate": 0.0, "error_rate": 1.0 }))
        .await;
    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error"]["code"], "agency_unavailable");
    assert_eq!(b["error"]["agency"], "post");
    let tries = stand.journal("post", "/mocks/post/letters").await;
    assert_eq!(tries.iter().filter(|e| e["status"] == 503).count(), 6);
}

async fn sign(stand: &Stand, c: &Value, oid: u64, token: &str) -> (StatusCode, Value) {
    let sig = &c["signature"];
    stand
        .call(
            "POST",
            &format!("/api/v1/accounts/{oid}/confirmations"),
            Some(json!({ "method": "e_signature",
                "certificate": { "serial": sig["serial"], "issuer": sig["issuer"] } })),
            Some(token),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_cut_off_is_retried_and_the_ca_down_drops_the_check() {
    let stand = Stand::start();
    // Citizen 12 and 101 of seed 7 hold valid УКЭП certificates.
    let c = citizen(101);
    let (oid, token) = stand.standard(&c).await;
    stand
        .profile("ca", json!({ "error_rate": 1.0, "timeout_rate": 0.0 }))
        .await;
    let (s, b) = sign(&stand, &c, oid, &token).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error"]["agency"], "ca");
    let a = stand.account(oid, &token).await;
    assert_eq!(
        a["confirmation"]["status"], "none",
        "free to sign again: {a}"
    );
    // Back up, but the next connection is cut: the engine tries again and confirms.
    stand.profile("ca", json!({ "error_rate": 0.0 })).await;
    stand
        .fault(
            "ca",
            json!({ "kind": "fail_next", "count": 1, "failure": "reset" }),
        )
        .await;
    let (s, a) = sign(&stand, &c, oid, &token).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["tier"], "confirmed");
    let entries = stand.journal("ca", "/mocks/ca/certificates/").await;
    let last_two = &entries[entries.len() - 2..];
    assert_eq!(faults_of(last_two), [Some("reset".into()), None]);

    // A CA that shows the certificate as someone else's (a mismatch about the owner).
    let d = citizen(12);
    let (oid, token) = stand.standard(&d).await;
    stand
        .fault("ca", json!({ "kind": "mismatch", "snils": d["snils"] }))
        .await;
    let (s, b) = sign(&stand, &d, oid, &token).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["verdict"], "not_this_person");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfr_errors_fail_the_verification_as_unavailable_and_mismatches_as_mismatch() {
    let stand = Stand::start();
    stand
        .profile("pfr", json!({ "error_rate": 1.0, "timeout_rate": 0.0 }))
        .await;
    let c = pick(5, |_| true);
    let (oid, token) = stand.simplified(&c).await;
    stand.submit_only(oid, &token, &c).await;
    let a = eventually(|| async {
        let a = stand.account(oid, &token).await;
        (a["verification"]["status"] == "failed").then_some(a)
    })
    .await;
    assert_eq!(a["verification"]["reason"], "pfr_unavailable", "{a}");

    // PFR back, but it disagrees about this SNILS; FMS about another citizen's passport.
    stand.profile("pfr", json!({ "error_rate": 0.0 })).await;
    stand
        .fault("pfr", json!({ "kind": "mismatch", "snils": c["snils"] }))
        .await;
    stand.submit(oid, &token, &c).await;
    stand.advance(601).await;
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["verification"]["reason"], "pfr_mismatch", "{a}");
    assert_eq!(a["verification"]["pfr"], "mismatch");

    let d = pick(6, |_| true);
    stand
        .fault(
            "fms",
            json!({ "kind": "mismatch", "passport": { "series": d["passport"]["series"], "number": d["passport"]["number"] } }),
        )
        .await;
    let (oid, token) = stand.simplified(&d).await;
    stand.submit(oid, &token, &d).await;
    stand.advance(601).await;
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["verification"]["reason"], "fms_mismatch", "{a}");
    // A mismatch names its key the agency's way.
    let (s, b) = stand
        .post(
            "/mocks/fms/admin/faults",
            json!({ "kind": "mismatch", "snils": d["snils"] }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
}

/// A bank client's SNILS as 11 digits.
fn digits(snils: &Value) -> String {
    snils
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_outage_refuses_until_it_ends_and_a_bank_mismatch_is_refused_by_the_engine() {
    let stand = Stand::start();
    let c = pick(0, |c| c["bank"] == "sber");
    let path = format!(
        "/mocks/banks/sber/clients/{}/gosuslugi",
        digits(&c["snils"])
    );
    stand
        .fault("banks", json!({ "kind": "outage", "duration": "2h" }))
        .await;
    let (s, b) = stand.post(&path, json!({})).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(b["error"]["code"], "outage");
    stand.advance(2 * 3_600).await;
    // Up again; PFR and FMS answer instantly here, so the engine answers at once.
    stand
        .profile(
            "pfr",
            json!({ "latency": { "kind": "fixed", "value": "0s" } }),
        )
        .await;
    stand
        .profile(
            "fms",
            json!({ "latency": { "kind": "fixed", "value": "0s" } }),
        )
        .await;
    let (s, b) = stand.post(&path, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "confirmed");

    // The bank's record of this client is wrong (a wrong birth date): PFR disagrees and the
    // engine refuses at its answer, without waiting for FMS (ten minutes away again).
    stand
        .profile(
            "fms",
            json!({ "latency": { "kind": "fixed", "value": "10m" } }),
        )
        .await;
    let d = pick(1, |c| c["bank"] == "tinkoff");
    stand
        .fault("banks", json!({ "kind": "mismatch", "snils": d["snils"] }))
        .await;
    let (s, b) = stand
        .post(
            &format!(
                "/mocks/banks/tinkoff/clients/{}/gosuslugi",
                digits(&d["snils"])
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "verification_failed");
    assert_eq!(b["error"]["reason"], "pfr_mismatch", "{b}");
    // Only Tinkoff's error rate changes; Sber keeps its own.
    let p = stand
        .profile("banks", json!({ "tinkoff": { "error_rate": 1.0 } }))
        .await;
    assert_eq!(p["tinkoff"]["error_rate"], 1.0);
    assert_eq!(p["sber"]["error_rate"], 0.0);
    let (s, _) = stand
        .post(
            &format!(
                "/mocks/banks/tinkoff/clients/{}/gosuslugi",
                digits(&d["snils"])
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_centers_turn_visitors_away_when_full_or_closed() {
    let stand = Stand::start();
    let c = pick(8, |_| true);
    let (oid, _) = stand.standard(&c).await;
    let visit = json!({ "snils": c["snils"], "passport_series": c["passport"]["series"],
        "passport_number": c["passport"]["number"] });
    stand
        .profile("centers", json!({ "refusal_rate": 1.0 }))
        .await;
    let (s, b) = stand
        .post("/mocks/centers/mfc-1/visits", visit.clone())
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert_eq!(b["error"]["code"], "queue");
    // Opening hours respected: the world's clock is at night in Moscow.
    stand
        .profile(
            "centers",
            json!({ "refusal_rate": 0.0, "opening_hours": true }),
        )
        .await;
    let (s, b) = stand
        .post("/mocks/centers/mfc-1/visits", visit.clone())
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "closed");
    let (_, clock) = stand.get("/mocks/admin/clock").await;
    let opens_at = b["error"]["opens_at"].as_str().unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap();
    let opens = chrono::DateTime::parse_from_rfc3339(opens_at).unwrap();
    let wait = (opens - now).num_seconds();
    assert!(wait > 0, "{now} {opens}");
    stand.advance(wait as u64 + 60).await;
    // The operator mistypes the passport number of this citizen: the engine refuses.
    stand
        .fault(
            "centers",
            json!({ "kind": "mismatch", "snils": c["snils"] }),
        )
        .await;
    let (s, b) = stand
        .post("/mocks/centers/mfc-1/visits", visit.clone())
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "documents_mismatch");
    stand
        .call("DELETE", "/mocks/centers/admin/faults", None, None)
        .await;
    let (s, b) = stand.post("/mocks/centers/mfc-1/visits", visit).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    assert_eq!(stand.account(oid, &token).await["tier"], "confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_post_and_a_slow_wire() {
    let stand = Stand::start();
    // The post's delivery time: 20 days instead of 4.
    let p = stand
        .profile(
            "post",
            json!({ "latency": { "kind": "fixed", "value": "20d" } }),
        )
        .await;
    assert_eq!(p["latency"]["kind"], "fixed");
    // The wire: every SMS answer 300 ms late. A client that waits 100 ms gets nothing; one
    // that waits longer gets the answer.
    let p = stand
        .profile(
            "sms",
            json!({ "response_delay": { "kind": "fixed", "value": "300ms" } }),
        )
        .await;
    assert_eq!(p["response_delay"]["value"], "300ms", "{p}");
    let inbox = format!("{}/mocks/sms/inbox/79990000001", stand.base);
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
    let e = impatient.get(&inbox).send().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let patient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    assert_eq!(patient.get(&inbox).send().await.unwrap().status(), 200);
    // The engine waits too (its timeout is 2 s): one request for the code's SMS, no retry.
    let c = pick(9, |_| true);
    let (oid, token) = stand.simplified(&c).await;
    let sent = stand.journal("sms", "/mocks/sms/messages").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["status"], 202, "{sent:?}");
    stand.submit(oid, &token, &c).await;
    stand.advance(601).await;
    assert_eq!(stand.decided(oid, &token).await["tier"], "standard");
    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    let (_, b) = stand.order_letter(oid, &token).await;
    let n = b["tracking_number"].as_str().unwrap().to_owned();
    stand.advance(14 * 86_400).await;
    let (s, _) = stand.pickup(&n, &c).await;
    assert_eq!(s, StatusCode::CONFLICT, "not there after two weeks");
    stand.advance(6 * 86_400).await;
    let (s, _) = stand.pickup(&n, &c).await;
    assert_eq!(s, StatusCode::OK, "there after twenty days");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_validates_filters_and_resets() {
    let stand = Stand::start();
    // A bad value names its key and changes nothing.
    let (s, b) = stand
        .call(
            "PUT",
            "/mocks/sms/admin/profile",
            Some(json!({ "error_rate": 2.0, "reset_rate": 0.5 })),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("error_rate"),
        "{b}"
    );
    let (_, p) = stand.get("/mocks/sms/admin/profile").await;
    assert_eq!(p["reset_rate"], 0.0);
    let (s, b) = stand
        .call(
            "PUT",
            "/mocks/sms/admin/profile",
            Some(json!({ "eror_rate": 0.1 })),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, b) = stand
        .post("/mocks/sms/admin/faults", json!({ "kind": "explode" }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, b) = stand
        .post(
            "/mocks/sms/admin/faults",
            json!({ "kind": "lose_letter", "tracking_number": "1" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // The journal by path and by time.
    let c = pick(10, |_| true);
    stand.simplified(&c).await;
    let (_, clock) = stand.get("/mocks/admin/clock").await;
    let before = clock["now_ms"].as_u64().unwrap();
    stand.advance(3_600).await;
    stand.get("/mocks/sms/inbox/79990000000").await;
    let all = stand.journal("sms", "/").await;
    assert!(all.len() >= 3, "{all:?}");
    let inbox_only = stand.journal("sms", "/mocks/sms/inbox/").await;
    assert!(inbox_only
        .iter()
        .all(|e| e["path"].as_str().unwrap().starts_with("/mocks/sms/inbox/")));
    let (_, late) = stand
        .get(&format!("/mocks/sms/admin/journal?since={}", before + 1))
        .await;
    let late = late["entries"].as_array().unwrap();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["path"], "/mocks/sms/inbox/79990000000");
    let (_, early) = stand
        .get(&format!("/mocks/sms/admin/journal?until={before}&limit=1"))
        .await;
    assert_eq!(early["entries"].as_array().unwrap().len(), 1);
    let (s, b) = stand.get("/mocks/sms/admin/journal?since=tomorrow").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "since");

    // Reset: the starting profile, no faults, an empty journal and inbox.
    stand.profile("sms", json!({ "malformed_rate": 0.5 })).await;
    stand
        .fault("sms", json!({ "kind": "fail_next", "count": 5 }))
        .await;
    let (s, _) = stand.post("/mocks/sms/admin/reset", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, p) = stand.get("/mocks/sms/admin/profile").await;
    assert_eq!(p["malformed_rate"], 0.0);
    assert_eq!(p["error_rate"], 0.0);
    let (_, f) = stand.get("/mocks/sms/admin/faults").await;
    assert_eq!(f["fail_next"], json!([]));
    assert!(stand.journal("sms", "/").await.is_empty());
    let (_, inbox) = stand
        .get(&format!(
            "/mocks/sms/inbox/{}",
            c["phone"].as_str().unwrap().trim_start_matches('+')
        ))
        .await;
    assert_eq!(inbox["messages"], json!([]));
}
