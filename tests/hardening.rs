//! The stand against hostile clients: password guessing (the login lockout and the throttle of
//! failed logins per address), slow and greedy HTTP clients (the header-read timeout, the
//! header limit, a body refused from its declared length, the cap on open connections), and
//! the admin routes closed off loopback. Time moves by the world's clock, never by waiting; no
//! test asserts a wall-clock duration (the bounded waits below are guards against a hang).

use esia_sim::mocks::service::{quiet_agencies, HttpLimits};
use esia_sim::registry::HashProfile;
use esia_sim::stand::{LockoutConfig, StandConfig, StandServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "Vx7kPz9mQ";

/// A stand whose clock all but stands still (a wall second is a microsecond of its time), so
/// that only an advance ends a lockout.
async fn still_stand(lockout: LockoutConfig, http: HttpLimits) -> StandServer {
    StandServer::start_with(StandConfig {
        agencies: quiet_agencies(),
        hash_profile: HashProfile::Load,
        time_scale: 1e-6,
        code_seed: Some(5),
        lockout,
        http,
        ..StandConfig::default()
    })
    .await
    .expect("the stand starts")
}

/// Registers citizen `i` by phone with [`PASSWORD`]; its phone.
async fn registered(stand: &StandServer, http: &reqwest::Client, i: u64) -> String {
    let c = stand.citizen(i);
    let phone = c.phone.clone().expect("a citizen with a phone");
    let base = stand.base_url();
    let r: Value = http
        .post(format!("{base}/api/v1/registrations"))
        .json(&json!({ "surname": c.surname, "name": c.name, "phone": phone }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["registration_id"]
        .as_str()
        .expect("registered")
        .to_owned();
    let inbox = format!("{base}/mocks/sms/inbox/{}", &phone[1..]);
    let mut code = None;
    for _ in 0..2_000 {
        let v: Value = http.get(&inbox).send().await.unwrap().json().await.unwrap();
        if let Some(text) = v["messages"][0]["text"].as_str() {
            code = text
                .split(|ch: char| !ch.is_ascii_digit())
                .find(|w| w.len() == 6)
                .map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let code = code.expect("the SMS came");
    let s = http
        .post(format!("{base}/api/v1/registrations/{id}/code"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::OK);
    let s = http
        .post(format!("{base}/api/v1/registrations/{id}/password"))
        .json(&json!({ "password": PASSWORD, "password_repeat": PASSWORD }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::CREATED);
    phone
}

/// `POST /api/v1/sessions`: the status, the body and the `Retry-After` in seconds.
async fn log_in(
    stand: &StandServer,
    http: &reqwest::Client,
    login: &str,
    password: &str,
) -> (StatusCode, Value, Option<u64>) {
    let r = http
        .post(format!("{}/api/v1/sessions", stand.base_url()))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_passwords_lock_the_login_until_the_lockout_ends() {
    let lockout = LockoutConfig::default();
    let stand = still_stand(lockout, HttpLimits::default()).await;
    let http = reqwest::Client::new();
    let phone = registered(&stand, &http, 0).await;
    let n = lockout.failures_max as usize;
    let first_s = lockout.lock_first_ms / 1_000;
    for i in 0..1_000 {
        // Half-way, the right password: refused like the rest while locked.
        let password = if i == 500 { PASSWORD } else { "Wrong1pass" };
        let (status, body, retry) = log_in(&stand, &http, &phone, password).await;
        if i < n {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "attempt {i}: {body}");
            assert_eq!(body["error"]["code"], "login_locked", "{body}");
            assert_eq!(retry, Some(first_s), "attempt {i}");
        }
    }
    // The lockout ends with the world's time: then the right password opens a session.
    stand.advance(Duration::from_secs(first_s + 1)).await;
    let (status, body, _) = log_in(&stand, &http, &phone, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["token"].is_string());

    // Locked again and again: each lockout twice as long as the one before.
    for round in 0..3u64 {
        for _ in 0..n {
            let (status, _, _) = log_in(&stand, &http, &phone, "Wrong1pass").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, body, retry) = log_in(&stand, &http, &phone, PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(retry, Some(first_s << round), "lockout {}", round + 1);
        stand
            .advance(Duration::from_secs((first_s << round) + 1))
            .await;
    }
    let (status, _, _) = log_in(&stand, &http, &phone, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_from_one_address_are_throttled_across_logins() {
    let lockout = LockoutConfig {
        address_failures_max: 20,
        address_window_ms: 60_000,
        ..LockoutConfig::default()
    };
    let stand = still_stand(lockout, HttpLimits::default()).await;
    let http = reqwest::Client::new();
    let phone = registered(&stand, &http, 0).await;
    // Twenty logins that name nobody, a different one each time.
    for i in 0..20 {
        let (status, body, _) =
            log_in(&stand, &http, &format!("+7916000{i:04}"), "Wrong1pass").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Now even a right password from this address waits for the window's end.
    let (status, body, retry) = log_in(&stand, &http, &phone, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "login_throttled");
    assert_eq!(retry, Some(60));
    stand.advance(Duration::from_secs(61)).await;
    let (status, body, _) = log_in(&stand, &http, &phone, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The host and port of the stand's base URL.
fn addr_of(stand: &StandServer) -> String {
    stand.base_url().trim_start_matches("http://").to_owned()
}

/// Everything the server sends until it closes the connection (or the guard's time passes:
/// then `None`).
async fn read_to_close(stream: &mut TcpStream, guard: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(guard, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| got)
}

/// The status line's code of a raw answer.
fn status_of(answer: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_while_other_clients_are_served() {
    let http_limits = HttpLimits {
        header_timeout_ms: 500,
        ..HttpLimits::default()
    };
    let stand = still_stand(LockoutConfig::default(), http_limits).await;
    let addr = addr_of(&stand);
    // Fifty clients sending a header a byte at a time, 50 ms apart: a header of 400 bytes
    // would take them 20 s; the server closes them at its timeout.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            let header = format!(
                "GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
                "a".repeat(360)
            );
            for (sent, b) in header.bytes().enumerate() {
                if s.write_all(&[b]).await.is_err() {
                    return sent;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                // A closed connection shows on a read that ends at once.
                let mut one = [0u8; 1];
                if let Ok(Ok(0)) =
                    tokio::time::timeout(Duration::from_millis(1), s.read(&mut one)).await
                {
                    return sent + 1;
                }
            }
            header.len()
        }));
    }
    // Meanwhile a normal client is answered.
    let http = reqwest::Client::new();
    for _ in 0..20 {
        let r = http
            .get(format!("{}/healthz", stand.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in slow {
        let sent = task.await.unwrap();
        assert!(
            sent < 400,
            "a slow client was cut off after {sent} bytes, not let finish"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_over_the_limit_is_431() {
    let stand = still_stand(LockoutConfig::default(), HttpLimits::default()).await;
    let mut s = TcpStream::connect(addr_of(&stand)).await.unwrap();
    let header = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "a".repeat(40 * 1024)
    );
    // The server may close before it has read everything: a failed write is fine.
    let _ = s.write_all(header.as_bytes()).await;
    let answer = read_to_close(&mut s, Duration::from_secs(30))
        .await
        .expect("the server answers and closes");
    assert_eq!(
        status_of(&answer),
        431,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // Under the limit, the same request is answered.
    let mut s = TcpStream::connect(addr_of(&stand)).await.unwrap();
    let header = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-pad: {}\r\n\r\n",
        "a".repeat(8 * 1024)
    );
    s.write_all(header.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut s, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(status_of(&answer), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_declared_too_large_is_413_without_100_continue() {
    let stand = still_stand(LockoutConfig::default(), HttpLimits::default()).await;
    let mut s = TcpStream::connect(addr_of(&stand)).await.unwrap();
    s.write_all(
        b"POST /api/v1/registrations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          content-length: 8388623\r\nexpect: 100-continue\r\n\r\n",
    )
    .await
    .unwrap();
    // Not one byte of the body is sent: the answer comes from the header alone.
    let answer = read_to_close(&mut s, Duration::from_secs(30))
        .await
        .expect("the server answers and closes without the body");
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.contains("100 Continue"), "{text}");
    assert_eq!(status_of(&answer), 413, "{text}");
    assert!(text.contains("\"body_too_large\""), "{text}");
    // The same on a mock's route.
    let mut s = TcpStream::connect(addr_of(&stand)).await.unwrap();
    s.write_all(
        b"POST /mocks/sms/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          content-length: 70000\r\n\r\n",
    )
    .await
    .unwrap();
    let answer = read_to_close(&mut s, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(status_of(&answer), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_until_one_closes() {
    let http_limits = HttpLimits {
        connections_max: 4,
        ..HttpLimits::default()
    };
    let stand = still_stand(LockoutConfig::default(), http_limits).await;
    let addr = addr_of(&stand);
    let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    // Four connections held open, each answered once (so each is surely accepted).
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert_eq!(status_of(&buf[..n]), 200);
        held.push(s);
    }
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let _ = s.write_all(request).await;
    let answer = read_to_close(&mut s, Duration::from_secs(30))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(status_of(&answer), 503, "{text}");
    assert!(text.contains("too_many_connections"), "{text}");
    // One closes: a new connection is served (once the server has seen the close).
    drop(held.pop());
    let mut served = false;
    for _ in 0..1_000 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let _ = s.write_all(request).await;
        let answer = read_to_close(&mut s, Duration::from_secs(30))
            .await
            .unwrap();
        if status_of(&answer) == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(served, "a connection is served once one of the four closed");
}

/// `esia-sim serve` on `addr` with `extra` arguments: the child and its first `lines` lines.
fn serve(addr: &str, extra: &[&str], lines: usize) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .args([
            "serve",
            "--addr",
            addr,
            "--hash-profile",
            "none",
            "--log",
            "warn",
        ])
        .args(["--operator-token", "op", "--partner-token", "pa"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    for _ in 0..lines {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        got.push(line.trim().to_owned());
    }
    (child, got)
}

/// Kills the child when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_the_admin_routes_need_the_printed_token() {
    let (child, lines) = serve("0.0.0.0:0", &[], 2);
    let _child = Killed(child);
    let port = lines[0]
        .rsplit(':')
        .next()
        .expect("listening on http://0.0.0.0:PORT")
        .to_owned();
    let token = lines[1]
        .strip_prefix("admin token: ")
        .unwrap_or_else(|| panic!("the second line: {lines:?}"))
        .to_owned();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let advance = format!("{base}/mocks/admin/clock/advance");
    let r = http
        .post(&advance)
        .json(&json!({ "seconds": 60 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "token_missing");
    for (path, method) in [
        ("/mocks/pfr/admin/journal", "GET"),
        ("/mocks/sms/admin/reset", "POST"),
        ("/mocks/post/letters/RA000/deliver", "POST"),
        ("/mocks/fms/requests/r1/complete", "POST"),
    ] {
        let r = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = http
        .post(&advance)
        .bearer_auth(&token)
        .json(&json!({ "seconds": 60 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The citizens' routes of the mocks need no token.
    let r = http
        .get(format!("{base}/mocks/sms/inbox/79161234567"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_loopback_the_admin_routes_stay_open() {
    let (child, lines) = serve("127.0.0.1:0", &[], 1);
    let _child = Killed(child);
    let base = lines[0].strip_prefix("listening on ").unwrap().to_owned();
    let r = reqwest::Client::new()
        .post(format!("{base}/mocks/admin/clock/advance"))
        .json(&json!({ "seconds": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
