//! Agencies with a capacity in the simulator, as a researcher relies on them: queueing theory
//! holds (Erlang C), the figures of funnel.json are there under `agencies.<name>.queue`, the
//! same bytes on one thread and on two, impatient citizens leave the queue, a quota refuses
//! without losing a verification, and `--sweep` writes its table and page.

use esia_mocks::agency::capacity::theory;
use esia_mocks::agency::{Capacity, Latency};
use esia_mocks::clock::{MS_PER_DAY, MS_PER_HOUR};
use esia_sim::funnel::{Exit, Funnel, Step};
use esia_sim::report::{self, RunInfo};
use esia_sim::scenario::{Arrivals, Scenario};
use esia_sim::sim::{run, run_all, Progress, World};

fn simulate(scenario: &Scenario, seed: u64, citizens: u64, threads: usize) -> Funnel {
    let world = World::new(scenario, seed).expect("valid scenario");
    run(&world, citizens, threads, &Progress::new(threads))
        .expect("runs")
        .funnel
}

fn info(scenario: &Scenario, seeds: Vec<u64>, citizens: u64) -> RunInfo {
    RunInfo {
        scenario_name: scenario.name.clone(),
        scenario_file: None,
        scenario: scenario.to_json(),
        overrides: Vec::new(),
        seeds,
        citizens,
        horizon_days: scenario.horizon.div_ceil(MS_PER_DAY),
        epoch: scenario.population.epoch,
        baseline_checks: false,
    }
}

fn funnel_json(scenario: &Scenario, seeds: Vec<u64>, citizens: u64, funnels: &[Funnel]) -> String {
    let figures = report::Figures::compute(&info(scenario, seeds, citizens), funnels).unwrap();
    report::json::to_string(&figures).unwrap()
}

/// Everyone registers by SMS and stops at the simplified account: the SMS gateway sees the
/// Poisson arrivals themselves.
fn sms_only(per_day: f64, servers: u32, mean_service_ms: u64) -> Scenario {
    let mut s = Scenario {
        name: "sms_queue".into(),
        arrivals: Arrivals::Poisson { per_day },
        ..Scenario::default()
    };
    s.paths.standard = 0.0;
    s.paths.service_center = 0.0;
    s.paths.post = 0.0;
    s.paths.e_signature = 0.0;
    s.paths.bank = 0.0;
    s.paths.mfc = 0.0;
    s.population.phone_share = 1.0;
    s.population.prefer_sms_share = 1.0;
    // Codes typed well within their 300 s: no resend adds to the Poisson stream.
    s.behaviour.type_code = Latency::fixed(10_000);
    s.agencies.sms.loss_rate = 0.0;
    s.agencies.sms.service.error_rate = 0.0;
    s.agencies.sms.service.latency = Latency::exponential(mean_service_ms);
    s.agencies.sms.service.capacity = Some(Capacity::servers(servers));
    // Arrivals go on to the horizon (citizens left over are not simulated), so that the
    // utilization of the whole window is the load.
    s.warmup = 2 * MS_PER_HOUR;
    s.horizon = 2 * MS_PER_DAY;
    s
}

#[test]
fn an_sms_gateway_with_servers_waits_as_erlang_c_says() {
    // rho = 0.75 on 3 servers with a mean service of 2 s.
    let (servers, service_s, rho) = (3u32, 2.0, 0.75);
    let lambda = rho * f64::from(servers) / service_s;
    let scenario = sms_only(lambda * 86_400.0, servers, 2_000);
    let citizens = 250_000;
    let f = simulate(&scenario, 11, citizens, 1);
    let q = &f.queues["sms"];
    assert_eq!(q.refused(), 0, "an unbounded queue refuses nobody");
    // Two days at 1.125 a second, less the warm-up.
    assert!((185_000..=204_000).contains(&q.arrivals), "{}", q.arrivals);
    let expected = theory::mmc_wait(servers, lambda, service_s);
    let measured = q.wait_mean_s().unwrap();
    assert!(
        (measured - expected).abs() / expected < 0.05,
        "mean wait {measured} s, Erlang C {expected} s"
    );
    let utilization = q.utilization().unwrap();
    assert!(
        (utilization - rho).abs() < 0.02,
        "utilization {utilization}"
    );

    // The same figures in funnel.json, under the names scripts read.
    let json: serde_json::Value =
        serde_json::from_str(&funnel_json(&scenario, vec![11], citizens, &[f])).unwrap();
    let queue = &json["agencies"]["sms"]["queue"];
    for key in [
        "arrivals",
        "served",
        "refused",
        "reneged",
        "wait_mean_s",
        "wait_p50_s",
        "wait_p90_s",
        "wait_p99_s",
        "utilization",
        "max_queue",
    ] {
        assert!(queue[key].is_number(), "agencies.sms.queue.{key}: {queue}");
    }
    let p50 = queue["wait_p50_s"].as_f64().unwrap();
    let p90 = queue["wait_p90_s"].as_f64().unwrap();
    assert!(p50 <= p90 && p90 <= queue["wait_p99_s"].as_f64().unwrap());
    // P(wait = 0) = 1 - C(c, a): more than a quarter of the messages never wait here.
    let c = theory::erlang_c(servers, lambda * service_s);
    assert!(c < 0.75 && p50 < expected, "C = {c}, p50 {p50}");
}

#[test]
fn without_a_capacity_nothing_is_queued_and_the_report_has_no_agencies() {
    let mut s = sms_only(10_000.0, 1, 1_000);
    s.agencies.sms.service.capacity = None;
    let f = simulate(&s, 2, 2_000, 2);
    assert!(f.queues.is_empty());
    let json = funnel_json(&s, vec![2], 2_000, &[f]);
    assert!(
        !json.contains("\"agencies\": {\n    \""),
        "no agencies section"
    );
    assert!(!json.contains("capacity"));
}

fn centers_at(servers: u32) -> Scenario {
    let mut s = Scenario::load(std::path::Path::new("scenarios/mfc_capacity.toml"), &[])
        .expect("mfc_capacity parses");
    s.agencies.centers.service.capacity = Some(Capacity::servers(servers));
    s
}

#[test]
fn coupled_runs_give_the_same_bytes_on_one_thread_and_two() {
    let s = centers_at(2);
    let worlds = |seeds: &[u64]| -> Vec<World> {
        seeds.iter().map(|&k| World::new(&s, k).unwrap()).collect()
    };
    let seeds = [5, 6];
    let one: Vec<Funnel> = run_all(&worlds(&seeds), 6_000, 1, &Progress::new(1))
        .unwrap()
        .into_iter()
        .map(|r| r.funnel)
        .collect();
    let two: Vec<Funnel> = run_all(&worlds(&seeds), 6_000, 2, &Progress::new(2))
        .unwrap()
        .into_iter()
        .map(|r| r.funnel)
        .collect();
    let a = funnel_json(&s, seeds.to_vec(), 6_000, &one);
    let b = funnel_json(&s, seeds.to_vec(), 6_000, &two);
    assert_eq!(a, b);
    assert!(a.contains("\"centers\""));
    // And a single run on two threads is the one-thread run.
    let single = simulate(&s, 5, 6_000, 2);
    assert_eq!(
        funnel_json(&s, vec![5], 6_000, &[single]),
        funnel_json(&s, vec![5], 6_000, &one[..1])
    );
}

#[test]
fn too_few_counters_make_citizens_give_up_the_queue() {
    let s = centers_at(1);
    let f = simulate(&s, 3, 20_000, 1);
    let q = &f.queues["centers"];
    let gave_up: u64 = f
        .paths
        .iter()
        .map(|p| {
            p.exits
                .iter()
                .map(|e| e[Exit::GaveUpQueue as usize])
                .sum::<u64>()
        })
        .sum();
    assert!(gave_up > 0, "nobody gave up with one counter a center");
    // Every citizen who gave up was counted leaving the queue (some left before the warm-up's
    // end, and those are not counted: at most as many exits as counted give-ups plus those).
    assert!(q.reneged > 0);
    let roomy = simulate(&centers_at(16), 3, 20_000, 1);
    let r = &roomy.queues["centers"];
    assert!(
        r.wait_mean_s().unwrap() < q.wait_mean_s().unwrap() / 10.0,
        "16 counters: {:?}, 1 counter: {:?}",
        r.wait_mean_s(),
        q.wait_mean_s()
    );
    assert!(roomy.reached(Step::Confirmed) > f.reached(Step::Confirmed));
    assert!(r.utilization().unwrap() < q.utilization().unwrap());
}

#[test]
fn a_pfr_quota_refuses_and_retries_without_losing_verifications() {
    let mut s = Scenario {
        name: "pfr_quota".into(),
        horizon: 30 * MS_PER_DAY,
        arrivals: Arrivals::Poisson { per_day: 50_000.0 },
        ..Scenario::default()
    };
    let free = simulate(&s, 4, 30_000, 1);
    // About 0.4 submissions a second at the peak of this run; a quota of 0.2 a second refuses.
    s.agencies.pfr.service.capacity = Some(Capacity {
        servers: 1_000,
        queue: None,
        rate: Some(0.2),
    });
    let quota = simulate(&s, 4, 30_000, 1);
    let q = &quota.queues["pfr"];
    assert!(q.refused_quota > 0, "{q:?}");
    assert_eq!(q.refused_full, 0);
    // Refused requests are asked again: verifications are slower, not lost.
    let standard = |f: &Funnel| f.reached(Step::Standard) as f64;
    assert!(
        standard(&quota) > 0.8 * standard(&free),
        "{} standard with the quota, {} without",
        standard(&quota),
        standard(&free)
    );
    let timeouts = |f: &Funnel| -> u64 {
        f.paths
            .iter()
            .map(|p| {
                p.exits
                    .iter()
                    .map(|e| e[Exit::VerificationTimeout as usize])
                    .sum::<u64>()
            })
            .sum()
    };
    assert!(timeouts(&quota) <= timeouts(&free) + 30);
    let mean = |f: &Funnel| {
        let h = &f.verification;
        h.mean()
    };
    assert!(
        mean(&quota) > mean(&free),
        "waiting for the quota takes time"
    );
}

fn esia_sim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_esia-sim"))
        .args(args)
        .output()
        .expect("esia-sim runs")
}

#[test]
fn a_sweep_writes_its_table_and_a_page_without_network() {
    let dir = std::env::temp_dir().join(format!("esia-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = esia_sim(&[
        "simulate",
        "scenarios/mfc_capacity.toml",
        "--citizens",
        "4000",
        "--replicates",
        "2",
        "--quiet",
        "--sweep",
        "agencies.centers.capacity.servers=1,8",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "agencies.centers.capacity.servers,figure,value,ci_low,ci_high,replicates"
    );
    let p90 = |servers: &str| -> f64 {
        csv.lines()
            .find(|l| l.starts_with(&format!("{servers},centers.wait_p90_s,")))
            .and_then(|l| l.split(',').nth(2))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no wait p90 at {servers} servers:\n{csv}"))
    };
    assert!(p90("8") < p90("1"), "more counters, shorter waits");
    for figure in [
        "conversion_confirmed",
        "to_confirmed_p90_s",
        "centers.utilization",
    ] {
        assert!(csv.contains(&format!("1,{figure},")), "{figure}");
    }
    let html = std::fs::read_to_string(dir.join("sweep.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("centers.wait_p90_s"));
    assert!(!html.contains("<script") && !html.contains("src=\"http"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("centers.wait_p90_s"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);

    // A bad sweep says what is wrong.
    let bad = esia_sim(&["simulate", "--quiet", "--sweep", "servers"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("KEY=V1,V2"));
}
