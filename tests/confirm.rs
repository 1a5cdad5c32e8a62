//! Black-box tests of the confirmed tier over HTTP alone, as an integrator would write them:
//! `esia-sim serve` on a free port, and a citizen of the population brought to `confirmed` by
//! each method of DOMAIN.md step 3 through the mocks: a service-center visit, a post letter
//! (the clock advanced, or the letter delivered now), a lost letter re-ordered, a qualified
//! e-signature, each of the three banks, MFC registration; and the refusals of an expired UEC
//! card and a revoked certificate.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

fn visit(c: &Value) -> Value {
    json!({
        "snils": c["snils"],
        "passport_series": c["passport"]["series"],
        "passport_number": c["passport"]["number"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_center_visit_confirms_a_standard_account() {
    let stand = Stand::start();
    let (s, list) = stand.get("/mocks/centers").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let centers = list["centers"].as_array().unwrap();
    let mfc = centers.iter().find(|c| c["id"] == "mfc-1").unwrap();
    assert_eq!(mfc["kind"], "mfc");
    assert!(mfc["hours"].is_string());
    assert!(centers.iter().any(|c| c["kind"] == "mvd"));

    let c = pick(0, |_| true);
    let (oid, token) = stand.standard(&c).await;
    // A visit before the data were verified would be refused by the engine: here it passes.
    let (s, b) = stand
        .post("/mocks/centers/rostelecom-1/visits", visit(&c))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["tier"], "confirmed");
    assert_eq!(b["method"], "service_center");
    assert_eq!(b["center_id"], "rostelecom-1");
    let a = stand.account(oid, &token).await;
    assert_eq!(a["tier"], "confirmed");
    assert_eq!(a["trusted"], true);
    assert_eq!(a["confirmation"]["method"], "service_center");
    assert_eq!(a["restrictions"], json!([]));
    // The citizen is told by SMS.
    let notice = stand.last_sms(c["phone"].as_str().unwrap(), 3).await;
    assert!(notice.contains("подтверждена"), "{notice}");
    // Another person's passport is refused by the engine; an unknown center by the mock.
    let other = pick(1, |_| true);
    let mut wrong = visit(&c);
    wrong["passport_number"] = other["passport"]["number"].clone();
    let (s, b) = stand.post("/mocks/centers/mfc-1/visits", wrong).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "documents_mismatch");
    let (s, b) = stand.post("/mocks/centers/mfc-99/visits", visit(&c)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

/// Orders a letter for a standard account: (tracking number, code from the letter picked up
/// once it has arrived by `arrive`).
async fn letter_journey(stand: &Stand, c: &Value, oid: u64, token: &str, deliver_now: bool) {
    let (s, b) = stand.order_letter(oid, token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["reorder"], false);
    let n = b["tracking_number"].as_str().unwrap().to_owned();
    assert_eq!(n.len(), 14, "{n}");
    let a = stand.account(oid, token).await;
    assert_eq!(a["confirmation"]["status"], "letter_ordered");
    assert_eq!(a["confirmation"]["tracking_number"], n.as_str());
    let (s, t) = stand.get(&format!("/mocks/post/tracking/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["status"], "accepted");
    // Not there yet: the post office has nothing to hand over.
    let (s, b) = stand.pickup(&n, c).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "not_arrived");
    if deliver_now {
        let (s, t) = stand
            .post(&format!("/mocks/post/letters/{n}/deliver"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        assert_eq!(t["status"], "arrived");
    } else {
        // The post takes 4 days here: one day is not enough, four are.
        stand.advance(86_400).await;
        let (_, t) = stand.get(&format!("/mocks/post/tracking/{n}")).await;
        assert_eq!(t["status"], "in_transit", "{t}");
        stand.advance(3 * 86_400).await;
        let (_, t) = stand.get(&format!("/mocks/post/tracking/{n}")).await;
        assert_eq!(t["status"], "arrived", "{t}");
    }
    // Only the recipient's passport opens it.
    let other = pick(5, |_| true);
    let (s, b) = stand.pickup(&n, &other).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["error"]["code"], "wrong_passport");
    let (s, letter) = stand.pickup(&n, c).await;
    assert_eq!(s, StatusCode::OK, "{letter}");
    let text = letter["text"].as_str().unwrap();
    let code = digits_of_len(text, 8);
    let (_, t) = stand.get(&format!("/mocks/post/tracking/{n}")).await;
    assert_eq!(t["status"], "handed_over", "{t}");

    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    let (s, a) = stand
        .call(
            "POST",
            &format!("/api/v1/accounts/{oid}/confirmations/code"),
            Some(json!({ "code": code })),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["tier"], "confirmed");
    assert_eq!(a["confirmation"]["method"], "post_letter");
    // DOMAIN.md: an account confirmed by letter cannot enter the FNS taxpayer cabinet.
    assert_eq!(a["restrictions"], json!(["no_fns_cabinet"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_letter_confirms_once_the_clock_brings_it() {
    let stand = Stand::start();
    let c = pick(2, |_| true);
    let (oid, token) = stand.standard(&c).await;
    letter_journey(&stand, &c, oid, &token, false).await;
    // The post saw the engine's order: the recipient, the address, the passport.
    let sent = stand.journal("post", "/mocks/post/letters").await;
    let order = sent
        .iter()
        .find(|e| e["path"] == "/mocks/post/letters")
        .unwrap();
    assert_eq!(order["status"], 201);
    assert_eq!(order["body"]["passport_series"], c["passport"]["series"]);
    assert!(order["body"]["recipient"]
        .as_str()
        .unwrap()
        .starts_with(c["surname"].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_letter_delivered_now_confirms() {
    let stand = Stand::start();
    let c = pick(3, |_| true);
    let (oid, token) = stand.standard(&c).await;
    letter_journey(&stand, &c, oid, &token, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_letter_is_reordered() {
    let stand = Stand::start();
    let c = pick(4, |_| true);
    let (oid, token) = stand.standard(&c).await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let lost = b["tracking_number"].as_str().unwrap().to_owned();
    stand
        .fault(
            "post",
            json!({ "kind": "lose_letter", "tracking_number": lost }),
        )
        .await;
    stand.advance(30 * 86_400).await;
    let (_, t) = stand.get(&format!("/mocks/post/tracking/{lost}")).await;
    assert_eq!(
        t["status"], "in_transit",
        "a lost letter never arrives: {t}"
    );
    let (s, b) = stand.pickup(&lost, &c).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["code"], "letter_lost");

    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["reorder"], true);
    let n = b["tracking_number"].as_str().unwrap().to_owned();
    assert_ne!(n, lost);
    // Re-ordering again at once is too soon (once a day).
    let (s, b) = stand.order_letter(oid, &token).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    stand
        .post(&format!("/mocks/post/letters/{n}/deliver"), json!({}))
        .await;
    let (s, letter) = stand.pickup(&n, &c).await;
    assert_eq!(s, StatusCode::OK, "{letter}");
    let code = digits_of_len(letter["text"].as_str().unwrap(), 8);
    let (s, a) = stand
        .call(
            "POST",
            &format!("/api/v1/accounts/{oid}/confirmations/code"),
            Some(json!({ "code": code })),
            Some(&token),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["tier"], "confirmed");
    assert_eq!(a["restrictions"], json!(["no_fns_cabinet"]));
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
async fn a_qualified_e_signature_confirms() {
    let stand = Stand::start();
    // Citizen 10 of seed 7 holds a УКЭП valid until 2026-11-21.
    let c = citizen(10);
    assert_eq!(c["signature"]["kind"], "ukep");
    let (s, cert) = stand
        .get(&format!(
            "/mocks/ca/certificates/{}",
            c["signature"]["serial"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{cert}");
    assert_eq!(cert["owner_snils"], c["snils"]);
    assert_eq!(cert["revoked"], false);
    let (oid, token) = stand.standard(&c).await;
    let (s, a) = sign(&stand, &c, oid, &token).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["tier"], "confirmed");
    assert_eq!(a["confirmation"]["method"], "e_signature");
    assert_eq!(a["restrictions"], json!([]));
    let (s, _) = stand.get("/mocks/ca/certificates/00FF").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_uec_and_a_revoked_certificate_are_refused() {
    let stand = Stand::start();
    // Citizen 17: a UEC card valid until 2021-02-21; citizen 1245: a revoked УКЭП.
    for (id, kind, verdict) in [(17, "uec", "expired"), (1245, "ukep", "revoked")] {
        let c = citizen(id);
        assert_eq!(c["signature"]["kind"], kind);
        let (oid, token) = stand.standard(&c).await;
        let (s, b) = sign(&stand, &c, oid, &token).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {b}");
        assert_eq!(b["error"]["code"], "certificate_refused");
        assert_eq!(b["error"]["field"], "certificate");
        assert_eq!(b["error"]["verdict"], verdict);
        let a = stand.account(oid, &token).await;
        assert_eq!(a["tier"], "standard", "{a}");
        assert_eq!(a["confirmation"]["last_refusal"], verdict);
        assert_eq!(a["confirmation"]["status"], "none");
    }
    // Someone else's certificate is not this person's.
    let holder = citizen(10);
    let c = pick(6, |c| c.get("signature").is_none());
    let (oid, token) = stand.standard(&c).await;
    let (s, b) = sign(&stand, &holder, oid, &token).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["verdict"], "not_this_person");
}

/// Calls `POST /mocks/banks/{bank}/clients/{snils}/gosuslugi`, moving the world's clock until
/// PFR and FMS (10 minutes here) have answered the engine.
async fn through_bank(stand: &Stand, bank: &str, c: &Value) -> (StatusCode, Value) {
    let snils: String = c["snils"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let url = format!(
        "{}/mocks/banks/{bank}/clients/{snils}/gosuslugi",
        stand.base
    );
    let http = stand.http.clone();
    let call = tokio::spawn(async move {
        let r = http.post(url).send().await.unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    });
    while !call.is_finished() {
        stand.advance(601).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = call.await.unwrap();
    if status != StatusCode::ACCEPTED {
        return (status, body);
    }
    // The bank's call came while an advance held the clock: pending at that instant. The bank
    // tells how it ended once the clock has moved on.
    assert_eq!(body["status"], "pending", "{body}");
    let id = body["confirmation_id"].as_str().unwrap().to_owned();
    stand.advance(601).await;
    stand
        .get(&format!("/mocks/banks/{bank}/confirmations/{id}"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bank_confirms_its_client() {
    let stand = Stand::start();
    let of = |bank: &'static str| move |c: &Value| c["bank"] == bank;

    // Sber: a client with a standard account; the bank confirms it.
    let c = pick(0, of("sber"));
    let (oid, _) = stand.standard(&c).await;
    let (s, b) = through_bank(&stand, "sber", &c).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["created"].as_bool()),
        (Some("confirmed"), Some(false))
    );
    assert_eq!(b["oid"], oid);
    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["tier"], "confirmed");
    assert_eq!(a["confirmation"]["method"], "bank");
    assert_eq!(a["confirmation"]["bank"], "sber");

    // Tinkoff: a client with no account; the bank's request makes a confirmed one.
    let c = pick(0, of("tinkoff"));
    let (s, b) = through_bank(&stand, "tinkoff", &c).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(b["created"], true);
    assert_eq!(b["method"], "bank");
    let id = b["confirmation_id"].as_str().unwrap();
    let (s, again) = stand
        .get(&format!("/mocks/banks/tinkoff/confirmations/{id}"))
        .await;
    assert_eq!((s, &again["oid"]), (StatusCode::OK, &b["oid"]), "{again}");

    // Pochta Bank: a client with a simplified account by phone; the bank confirms it.
    let c = pick(0, of("pochta"));
    let (oid, _) = stand.simplified(&c).await;
    let (s, b) = through_bank(&stand, "pochta", &c).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["oid"], oid);
    assert_eq!(b["created"], false);
    let token = stand.login(c["phone"].as_str().unwrap(), PASSWORD).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["tier"], "confirmed");
    assert_eq!(a["confirmation"]["bank"], "pochta");

    // Not a client of this bank: the bank says so, the engine is not asked.
    let (s, b) = through_bank(&stand, "pochta", &pick(1, of("sber"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["code"], "not_a_client");
    let (s, b) = stand.get("/mocks/banks/vtb/clients/11223344595").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mfc_registers_a_confirmed_account() {
    let stand = Stand::start_with(SCENARIO, &["--hash-profile", "load"]);
    let c = pick(7, |_| true);
    let mut body = visit(&c);
    body["register"] = json!(true);
    // Only an MFC registers.
    let (s, b) = stand
        .post("/mocks/centers/post-1/visits", body.clone())
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "cannot_register");
    let (s, b) = stand
        .post("/mocks/centers/mfc-1/visits", body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["tier"], "confirmed");
    let otp = b["one_time_password"].as_str().unwrap();
    let oid = b["oid"].as_u64().unwrap();
    let token = stand.login(c["phone"].as_str().unwrap(), otp).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["trusted"], true);
    assert_eq!(a["confirmation"]["method"], "mfc_registration");
    // The same documents again: the engine refuses.
    let (s, b) = stand.post("/mocks/centers/mfc-2/visits", body).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
}
