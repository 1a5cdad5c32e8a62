//! Black-box tests of `esia-sim serve`, as an integrator would write them: start the binary on
//! a free port, read `listening on http://ADDR`, register citizens of the population by phone
//! and by e-mail reading codes and links from the mock inboxes, log in, submit personal data and
//! reach `standard` (advancing the world's clock, or completing the PFR and FMS requests); and
//! every failure of these tiers. Time moves by `POST /mocks/admin/clock/advance`, never by
//! waiting; no test asserts a wall-clock duration.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;
use support::*;

/// The harness's [`SCENARIO`] (messages at once, PFR and FMS after exactly 10 minutes, no
/// failures) with a table other than `[agencies]`, which `serve` ignores.
fn scenario() -> String {
    format!(
        "{SCENARIO}
[population]
ignored = \"tables other than [agencies] belong to other subcommands\"
"
    )
}

/// `esia-sim serve` with [`scenario`]; `tokens` passes both tokens instead of generating them.
fn start(tokens: bool) -> Stand {
    if tokens {
        Stand::start_with(&scenario(), &[])
    } else {
        Stand::start_without_tokens(&scenario(), &[])
    }
}

/// `esia-sim serve` with [`scenario`], both tokens, and passwords hashed with `hash_profile`.
fn start_hashing(hash_profile: &str) -> Stand {
    Stand::start_with(&scenario(), &["--hash-profile", hash_profile])
}

/// The `i`-th citizen with a phone, a known SNILS and a valid passport.
fn ordinary(i: usize) -> Value {
    pick(i, |_| true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_phone_to_standard_by_advancing_the_clock() {
    let stand = start(false);
    assert!(
        stand.stdout[1].starts_with("operator token: "),
        "{:?}",
        stand.stdout
    );
    assert!(
        stand.stdout[2].starts_with("partner token: "),
        "{:?}",
        stand.stdout
    );
    let c = ordinary(0);
    let (oid, token) = stand.simplified(&c).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["tier"], "simplified");
    assert_eq!(a["verification"]["status"], "not_started");

    stand.submit(oid, &token, &c).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(a["verification"]["status"], "pending");
    // PFR and FMS answer 10 minutes later: move the world.
    stand.advance(601).await;
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["verification"]["status"], "passed", "{a}");
    assert_eq!(a["tier"], "standard");
    assert_eq!(a["verification"]["pfr"], "match");
    assert_eq!(a["verification"]["fms"], "valid");
    assert_eq!(a["trusted"], false);
    // The result comes by SMS, and SNILS is now a login.
    let notice = stand.last_sms(c["phone"].as_str().unwrap(), 2).await;
    assert!(notice.contains("стандартная"), "{notice}");
    let snils = c["snils"].as_str().unwrap();
    stand.login(snils, PASSWORD).await;
    stand.login(&snils.replace(['-', ' '], ""), PASSWORD).await;

    let (s, m) = stand.get("/metrics").await;
    assert_eq!(s, StatusCode::OK);
    let m = m.as_str().unwrap().to_owned();
    assert!(m.contains("esia_accounts{tier=\"standard\"} 1"), "{m}");
    assert!(m.contains("esia_http_requests_total{"), "{m}");
    assert!(
        m.contains("esia_http_request_duration_seconds_bucket{"),
        "{m}"
    );
    assert!(m.contains("esia_verifications_pending 0"), "{m}");
    let (s, h) = stand.get("/healthz").await;
    assert_eq!((s, h["status"].as_str()), (StatusCode::OK, Some("ok")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_email_to_standard_by_completing_the_requests() {
    let stand = start(true);
    let cs = citizens();
    let c = cs
        .iter()
        .find(|c| c.get("email").is_some() && c["traits"]["passport_expired"] == false)
        .unwrap()
        .clone();
    let email = c["email"].as_str().unwrap();
    let (s, b) = stand
        .post(
            "/api/v1/registrations",
            json!({ "surname": c["surname"], "name": c["name"], "email": email.to_uppercase() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["channel"], "email");
    let id = b["registration_id"].as_str().unwrap().to_owned();
    // The mailbox path takes the address percent-encoded.
    let path = format!("/mocks/mail/inbox/{}", email.replace('@', "%40"));
    let letter = eventually(|| async {
        let (_, b) = stand.get(&path).await;
        b["messages"].as_array().and_then(|m| m.first()).cloned()
    })
    .await;
    assert_eq!(letter["folder"], "inbox");
    let text = letter["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no link in {text}"));
    assert!(link.starts_with(&stand.base), "{link}");
    let (s, b) = stand.get(&link[stand.base.len()..]).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["confirmed"], true);
    let oid = stand.create_password(&id).await;
    let token = stand.login(email, PASSWORD).await;

    let (pfr, fms) = stand.submit(oid, &token, &c).await;
    let (s, v) = stand.get(&format!("/mocks/pfr/requests/{pfr}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        ["requestIsQueued", "underProcessing"].contains(&v["status"].as_str().unwrap()),
        "{v}"
    );
    for (agency, id) in [("pfr", &pfr), ("fms", &fms)] {
        let (s, v) = stand
            .post(
                &format!("/mocks/{agency}/requests/{id}/complete"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "responseIsDelivered");
    }
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["tier"], "standard", "{a}");
    // The notice goes to the e-mail, the only contact.
    eventually(|| async {
        let (_, b) = stand.get(&path).await;
        (b["messages"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    stand.login(c["snils"].as_str().unwrap(), PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_and_email_together_both_become_logins() {
    let stand = start(true);
    let c = pick(0, |c| c.get("email").is_some());
    let (phone, email) = (c["phone"].as_str().unwrap(), c["email"].as_str().unwrap());
    let form =
        json!({ "surname": c["surname"], "name": c["name"], "phone": phone, "email": email });
    // A preferred channel that names a contact not given is refused.
    let mut wrong = form.clone();
    wrong["phone"] = Value::Null;
    wrong["channel"] = json!("sms");
    let (s, b) = stand.post("/api/v1/registrations", wrong).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "channel", "{b}");
    // Both: the code by SMS (the default with a phone).
    let (s, b) = stand.post("/api/v1/registrations", form).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["channel"], "sms");
    let id = b["registration_id"].as_str().unwrap().to_owned();
    let code = stand.code(phone, 1).await;
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id}/code"),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The password makes the account; then the e-mail's link is sent.
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id}/password"),
            json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["second_contact"]["channel"], "email", "{b}");
    let oid = b["oid"].as_u64().unwrap();
    stand.login(phone, PASSWORD).await;
    let (s, _) = stand
        .post(
            "/api/v1/sessions",
            json!({ "login": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "not a login before it is confirmed"
    );
    let path = format!("/mocks/mail/inbox/{}", email.replace('@', "%40"));
    let letter = eventually(|| async {
        let (_, b) = stand.get(&path).await;
        b["messages"].as_array().and_then(|m| m.first()).cloned()
    })
    .await;
    let text = letter["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no link in {text}"));
    let (s, b) = stand.get(&link[stand.base.len()..]).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["oid"], oid, "{b}");
    let token = stand.login(email, PASSWORD).await;
    let a = stand.account(oid, &token).await;
    assert_eq!(
        (a["phone"].as_str(), a["email"].as_str()),
        (Some(&phone[1..]), Some(email)),
        "{a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_locked_and_expired_codes() {
    let stand = start(true);
    let c = ordinary(1);
    let phone = c["phone"].as_str().unwrap();
    let id = stand.register_phone(&c).await;
    let right = stand.code(phone, 1).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let path = format!("/api/v1/registrations/{id}/code");
    for left in [2, 1, 0] {
        let (s, b) = stand.post(&path, json!({ "code": wrong })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["error"]["code"], "code_wrong");
        assert_eq!(b["error"]["field"], "code");
        assert_eq!(b["error"]["attempts_left"], left);
    }
    let (s, b) = stand.post(&path, json!({ "code": right })).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert_eq!(b["error"]["code"], "code_locked");

    // Expired: the right code 301 s after it was sent.
    let c2 = ordinary(2);
    let id2 = stand.register_phone(&c2).await;
    let code2 = stand.code(c2["phone"].as_str().unwrap(), 1).await;
    stand.advance(301).await;
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id2}/code"),
            json!({ "code": code2 }),
        )
        .await;
    assert_eq!(s, StatusCode::GONE, "{b}");
    assert_eq!(b["error"]["code"], "code_expired");
    // Not a code at all: 422 naming the field, no attempt spent.
    let (s, b) = stand
        .post(
            &format!("/api/v1/registrations/{id2}/code"),
            json!({ "code": "12ab" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "code");
    // An unknown registration.
    let (s, b) = stand
        .post(
            "/api/v1/registrations/00000000000000ff/code",
            json!({ "code": "123456" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_waits_for_its_cooldown() {
    let stand = start(true);
    let c = ordinary(3);
    let phone = c["phone"].as_str().unwrap();
    let id = stand.register_phone(&c).await;
    let first = stand.code(phone, 1).await;
    let path = format!("/api/v1/registrations/{id}/resend");
    let r = stand
        .http
        .post(format!("{}{path}", stand.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "resend_too_soon");
    assert!(b["error"]["retry_after_ms"].as_u64().unwrap() <= 60_000);

    stand.advance(60).await;
    let (s, b) = stand.call("POST", &path, None, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let second = stand.code(phone, 2).await;
    let code = format!("/api/v1/registrations/{id}/code");
    if first != second {
        let (s, _) = stand.post(&code, json!({ "code": first })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (s, b) = stand.post(&code, json!({ "code": second })).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Confirmed: no more resends.
    let (s, b) = stand.call("POST", &path, None, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_passwords_are_refused_with_the_rule() {
    let stand = start(true);
    let c = ordinary(4);
    let phone = c["phone"].as_str().unwrap();
    let id = stand.register_phone(&c).await;
    let path = format!("/api/v1/registrations/{id}/password");
    // Before the phone is confirmed: refused.
    let (s, b) = stand
        .post(
            &path,
            json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "contact_not_confirmed");
    let code = stand.code(phone, 1).await;
    stand
        .post(
            &format!("/api/v1/registrations/{id}/code"),
            json!({ "code": code }),
        )
        .await;
    let national = &phone.trim_start_matches('+')[1..];
    let with_phone = format!("Ab{national}");
    let cases = [
        ("Ab1", "Ab1", "password"),
        ("abcdefg7", "abcdefg7", "password"),
        ("Vx7kPz9mQ", "Vx7kPz9mQ!", "password_repeat"),
        ("Qwerty123", "Qwerty123", "password"),
        ("Vxykpzqmm", "Vxykpzqmm", "password"),
        (with_phone.as_str(), with_phone.as_str(), "password"),
    ];
    for (p, r, field) in cases {
        let (s, b) = stand
            .post(&path, json!({ "password": p, "password_repeat": r }))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}: {b}");
        assert_eq!(b["error"]["code"], "weak_password", "{p}");
        assert_eq!(b["error"]["field"], field, "{p}");
    }
    // A missing field names itself.
    let (s, b) = stand.post(&path, json!({ "password": PASSWORD })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "password_repeat");
    let (s, b) = stand
        .post(
            &path,
            json!({ "password": PASSWORD, "password_repeat": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_does_not_log_in() {
    // Real argon2 hashes (the `load` profile): `none` accepts any password by design.
    let stand = start_hashing("load");
    let c = ordinary(8);
    let phone = c["phone"].as_str().unwrap();
    stand.simplified(&c).await;
    for login in [phone, "+79000000000", "nobody@example.ru"] {
        let (s, b) = stand
            .post(
                "/api/v1/sessions",
                json!({ "login": login, "password": "Wr0ngPassw" }),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(b["error"]["code"], "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_of_another_account_are_refused() {
    let stand = start(true);
    let owner = ordinary(5);
    let other = ordinary(6);
    let (oid1, t1) = stand.simplified(&owner).await;
    let (oid2, t2) = stand.simplified(&other).await;
    stand.submit(oid1, &t1, &owner).await;
    let (s, b) = stand
        .call(
            "PUT",
            &format!("/api/v1/accounts/{oid2}/personal-data"),
            Some(owner.clone()),
            Some(&t2),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["error"]["code"], "documents_bound");
    assert_eq!(b["error"]["field"], "snils");
    // Another account's session does not open this one.
    let (s, _) = stand
        .call("GET", &format!("/api/v1/accounts/{oid1}"), None, Some(&t2))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Bad personal data names the field.
    let mut bad = other.clone();
    bad["passport"]["series"] = json!("12345");
    let (s, b) = stand
        .call(
            "PUT",
            &format!("/api/v1/accounts/{oid2}/personal-data"),
            Some(bad),
            Some(&t2),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "passport.series");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pfr_mismatch_and_fms_invalid_fail_the_verification() {
    let stand = start(true);
    let cs = citizens();
    // PFR compares the gender; FMS does not: only PFR disagrees.
    let mut c = ordinary(7);
    let flipped = if c["gender"] == "male" {
        "female"
    } else {
        "male"
    };
    c["gender"] = json!(flipped);
    let (oid, token) = stand.simplified(&c).await;
    stand.submit(oid, &token, &c).await;
    // The first citizen with an expired passport (FMS answers `invalid`).
    let expired = cs
        .iter()
        .find(|c| c["traits"]["passport_expired"] == true)
        .expect("a citizen with an expired passport")
        .clone();
    assert_eq!(expired["traits"]["passport_expired"], true);
    let (oid2, token2) = if expired.get("phone").is_some() {
        stand.simplified(&expired).await
    } else {
        stand.simplified(&json!({ "surname": expired["surname"], "name": expired["name"], "phone": "+79990001122" })).await
    };
    stand.submit(oid2, &token2, &expired).await;
    stand.advance(601).await;

    let a = stand.decided(oid, &token).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "pfr_mismatch");
    assert_eq!(a["verification"]["pfr"], "mismatch");
    assert_eq!(a["tier"], "simplified");
    let a = stand.decided(oid2, &token2).await;
    assert_eq!(a["verification"]["status"], "failed", "{a}");
    assert_eq!(a["verification"]["reason"], "fms_invalid");
    assert_eq!(a["tier"], "simplified");
    // A failed verification frees the documents: corrected data pass.
    let good = ordinary(7);
    stand.submit(oid, &token, &good).await;
    stand.advance(601).await;
    let a = stand.decided(oid, &token).await;
    assert_eq!(a["tier"], "standard", "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_and_partner_routes_check_their_tokens() {
    let stand = start(true);
    let body = json!({ "center_id": "mfc-1", "snils": "112-233-445 95", "passport": { "series": "4512", "number": "345678" } });
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/confirmations",
            Some(body.clone()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert_eq!(b["error"]["code"], "token_missing");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/confirmations",
            Some(body.clone()),
            Some(PARTNER),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/confirmations",
            Some(body),
            Some(OPERATOR),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/partners/sber/confirmations",
            Some(json!({})),
            Some(OPERATOR),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/partners/vtb/confirmations",
            Some(json!({})),
            Some(PARTNER),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_stand_cleanly() {
    let mut stand = start(true);
    let (s, _) = stand.get("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    let pid = stand.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    for _ in 0..1_000 {
        if let Some(status) = stand.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the stand did not stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfc_service_center_and_bank_confirm_without_part_2() {
    let stand = start_hashing("load");
    let op = Some(OPERATOR);

    // Only an MFC of the centers' directory registers, and it names itself.
    let mut a = ordinary(9);
    for (center, status, code) in [
        (None, 422, "invalid"),
        (Some("mfc-99"), 404, "center_not_found"),
        (Some("rostelecom-1"), 422, "cannot_register"),
        (Some("post-1"), 422, "cannot_register"),
    ] {
        if let Some(id) = center {
            a["center_id"] = json!(id);
        }
        let (s, b) = stand
            .call(
                "POST",
                "/api/v1/operator/registrations",
                Some(a.clone()),
                op,
            )
            .await;
        assert_eq!(s.as_u16(), status, "{center:?}: {b}");
        assert_eq!(b["error"]["code"], code, "{center:?}: {b}");
        assert_eq!(b["error"]["field"], "center_id", "{center:?}: {b}");
    }
    // An MFC registers a confirmed account; its one-time password logs in.
    a["center_id"] = json!("mfc-2");
    let (s, b) = stand
        .call(
            "POST",
            "/api/v1/operator/registrations",
            Some(a.clone()),
            op,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["tier"], "confirmed");
    assert_eq!(b["center_id"], "mfc-2");
    let otp = b["one_time_password"].as_str().unwrap().to_owned();
    let oid = b["oid"].as_u64().unwrap();
    let (s, session) = stand
        .post(
            "/api/v1/sessions",
            json!({ "login": a["phone"], "password": otp }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    let acc = stand.account(oid, session["token"].as_str().unwrap()).await;
    assert_eq!(acc["trusted"], true);
    assert_eq!(acc["confirmation"]["method"], "mfc_registration");
    // The citizen replaces the one-time password; the MFC knows the birth date, so a password
    // with it is refused.
    let token = session["token"].as_str().unwrap();
    let with_birth = format!("Qz{}x", a["birth_date"].as_str().unwrap());
    let change = |current: &str, new: &str| json!({ "current_password": current, "password": new, "password_repeat": new });
    let path = format!("/api/v1/accounts/{oid}/password");
    let (s, b) = stand
        .call("PUT", &path, Some(change(&otp, &with_birth)), Some(token))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{with_birth}: {b}");
    assert_eq!(b["error"]["code"], "weak_password", "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("birth date"),
        "{b}"
    );
    let (s, b) = stand
        .call(
            "PUT",
            &path,
            Some(change("Wrong7Pass", PASSWORD)),
            Some(token),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["field"], "current_password", "{b}");
    let (s, b) = stand
        .call("PUT", &path, Some(change(&otp, PASSWORD)), Some(token))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    stand.login(a["phone"].as_str().unwrap(), PASSWORD).await;
    // The same documents again: 409.
    let (s, b) = stand
        .call("POST", "/api/v1/operator/registrations", Some(a), op)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");

    // A service center confirms a standard account.
    let c = ordinary(10);
    let (oid, token) = stand.simplified(&c).await;
    stand.submit(oid, &token, &c).await;
    stand.advance(601).await;
    assert_eq!(stand.decided(oid, &token).await["tier"], "standard");
    let shown = json!({ "center_id": "mfc-1", "snils": c["snils"],
        "passport": { "series": c["passport"]["series"], "number": "000001" } });
    let (s, b) = stand
        .call("POST", "/api/v1/operator/confirmations", Some(shown), op)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["error"]["code"], "documents_mismatch");
    // Any center of the directory confirms; one that is not in it does not exist.
    let mut shown = json!({ "center_id": "x", "snils": c["snils"],
        "passport": { "series": c["passport"]["series"], "number": c["passport"]["number"] } });
    for unknown in ["x", "nonexistent-99"] {
        shown["center_id"] = json!(unknown);
        let (s, b) = stand
            .call(
                "POST",
                "/api/v1/operator/confirmations",
                Some(shown.clone()),
                op,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        assert_eq!(b["error"]["code"], "center_not_found", "{b}");
    }
    shown["center_id"] = json!("mvd-1");
    let (s, b) = stand
        .call("POST", "/api/v1/operator/confirmations", Some(shown), op)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["center_id"], "mvd-1");
    let acc = stand.account(oid, &token).await;
    assert_eq!(acc["tier"], "confirmed");
    assert_eq!(acc["confirmation"]["method"], "service_center");

    // A bank's client gets a new confirmed account once PFR and FMS agree.
    let d = ordinary(11);
    let bank_call = {
        let base = stand.base.clone();
        let http = stand.http.clone();
        let d = d.clone();
        tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/v1/partners/tinkoff/confirmations"))
                .bearer_auth(PARTNER)
                .json(&d)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        })
    };
    // The agencies answer 10 minutes after they are asked: move the world until they have.
    while !bank_call.is_finished() {
        stand.advance(601).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, b) = bank_call.await.unwrap();
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(b["created"], true);
    let id = b["confirmation_id"].as_str().unwrap();
    let (s, again) = stand
        .call(
            "GET",
            &format!("/api/v1/partners/tinkoff/confirmations/{id}"),
            None,
            Some(PARTNER),
        )
        .await;
    assert_eq!((s, &again["oid"]), (StatusCode::OK, &b["oid"]));
}

/// The number on the line of `/metrics` text `m` that starts with `series ` (0 when absent).
fn metric(m: &str, series: &str) -> f64 {
    m.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preloaded_stand_counts_its_accounts_and_expires_in_batches() {
    let stand = Stand::start_with(&scenario(), &["--preload-accounts", "2000"]);
    let (s, m) = stand.get("/metrics").await;
    assert_eq!(s, StatusCode::OK);
    let m = m.as_str().unwrap().to_owned();
    assert_eq!(
        metric(&m, "esia_accounts{tier=\"simplified\"}"),
        2000.0,
        "{m}"
    );
    assert_eq!(metric(&m, "esia_store_entries{store=\"accounts\"}"), 2000.0);
    // The preloaded accounts hold their logins: the same e-mail cannot register again.
    let (s, b) = stand
        .post(
            "/api/v1/registrations",
            json!({"surname": "Тестов", "name": "Тест", "email": "preload-1999@esia-sim.invalid"}),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("contact_bound"))
    );
    // 600 registrations left unconfirmed expire after the code's life and the grace (three
    // batches of housekeeping; the batches themselves are checked in tests/registry_props.rs).
    for i in 0..600 {
        let (s, b) = stand
            .post(
                "/api/v1/registrations",
                json!({"surname": "Петров", "name": "Пётр", "email": format!("left-{i}@example.ru")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (_, m) = stand.get("/metrics").await;
    let m = m.as_str().unwrap().to_owned();
    assert_eq!(
        metric(&m, "esia_store_entries{store=\"registrations\"}"),
        600.0
    );
    stand.advance(4 * 86_400).await;
    let m = eventually(|| async {
        let (_, m) = stand.get("/metrics").await;
        let m = m.as_str().unwrap().to_owned();
        (metric(&m, "esia_store_entries{store=\"registrations\"}") == 0.0).then_some(m)
    })
    .await;
    assert_eq!(metric(&m, "esia_accounts{tier=\"simplified\"}"), 2000.0);
    let holds = metric(&m, "esia_housekeeping_lock_hold_seconds_count");
    assert!(holds >= 1.0, "{m}");
    // Each hold's CPU time too, which tells its work from time spent off the core; never more
    // than its wall time (a batch or two may land between the two histograms of one scrape).
    assert!(
        metric(&m, "esia_housekeeping_lock_hold_cpu_seconds_count") >= 1.0,
        "{m}"
    );
    assert!(
        metric(&m, "esia_housekeeping_lock_hold_cpu_seconds_sum")
            <= metric(&m, "esia_housekeeping_lock_hold_seconds_sum") + 0.001,
        "{m}"
    );
}
