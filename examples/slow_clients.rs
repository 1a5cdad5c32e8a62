//! The slow-client figure of `benches/README.md`: the whole stand (default HTTP limits: a
//! header within 10 s) with 500 connections that each send a request header one byte a second,
//! while one normal client sends `GET /healthz` every 10 ms on its own kept-alive connection.
//! Prints how long the server took to close each slow connection and the normal client's
//! latency (p50, p99, max) while they were open. Usage: `slow_clients [CONNECTIONS] [SECONDS]`
//! (default 500 connections, 20 s of the normal client).

use esia_sim::stand::StandServer;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let connections: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(500);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    let stand = StandServer::start().await?;
    let addr = stand.base_url().trim_start_matches("http://").to_owned();

    // The slow clients: a byte a second of a header that would take minutes.
    let mut slow = Vec::with_capacity(connections);
    for _ in 0..connections {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let opened = Instant::now();
            let mut s = TcpStream::connect(&addr).await.ok()?;
            let header = format!(
                "GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
                "a".repeat(300)
            );
            let mut one = [0u8; 64];
            for b in header.bytes() {
                if s.write_all(&[b]).await.is_err() {
                    return Some(opened.elapsed());
                }
                // Wait a second for the next byte, watching for the server's close.
                match tokio::time::timeout(Duration::from_secs(1), s.read(&mut one)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed()),
                    _ => {}
                }
            }
            None
        }));
    }

    // The normal client, meanwhile.
    let http = reqwest::Client::new();
    let url = format!("{}/healthz", stand.base_url());
    let mut latencies_us = Vec::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        let t = Instant::now();
        let r = http.get(&url).send().await?;
        let ok = r.status().is_success();
        let _ = r.bytes().await?;
        latencies_us.push(t.elapsed().as_micros() as u64);
        if !ok {
            return Err("the normal client was refused".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    latencies_us.sort_unstable();
    let at = |q: f64| latencies_us[((latencies_us.len() - 1) as f64 * q).round() as usize];

    let mut closed_ms = Vec::new();
    let mut unclosed = 0;
    for task in slow {
        match task.await? {
            Some(d) => closed_ms.push(d.as_millis() as u64),
            None => unclosed += 1,
        }
    }
    closed_ms.sort_unstable();
    println!(
        "slow connections: {connections}; closed by the server: {}; never closed: {unclosed}",
        closed_ms.len()
    );
    if let (Some(first), Some(last)) = (closed_ms.first(), closed_ms.last()) {
        println!(
            "closed after: {first} ms (first) to {last} ms (last), median {} ms",
            closed_ms[closed_ms.len() / 2]
        );
    }
    println!(
        "normal client: {} requests; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies_us.len(),
        at(0.5) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
        at(1.0) as f64 / 1e3
    );
    Ok(())
}
