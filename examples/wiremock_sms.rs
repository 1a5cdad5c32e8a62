//! `wiremock` serving the SMS mock's stub (`POST /mocks/sms/messages` -> 202 `{message_id}`),
//! for the throughput comparison in `benches/README.md`. wiremock keeps every request it
//! receives. Usage: `wiremock_sms [ADDR]` (default `127.0.0.1:9102`); stop it with Ctrl-C.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9102".into());
    let listener = std::net::TcpListener::bind(&addr)?;
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .and(path("/mocks/sms/messages"))
        .respond_with(
            ResponseTemplate::new(202)
                .set_body_json(serde_json::json!({ "message_id": "sms-0000000001" })),
        )
        .mount(&server)
        .await;
    println!("listening on {}", server.uri());
    tokio::signal::ctrl_c().await
}
