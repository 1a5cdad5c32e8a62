//! The CLI through the binary (`tests/load.rs`, `tests/compare.rs`): the command, a scratch
//! folder per test, the output shown on failure, and the load scenario these tests write.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `esia-sim`, built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_esia-sim"))
}

/// An empty scratch folder's path, named after the test binary, the process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "esia-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A finished command's status and output, for a failed assertion.
pub fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every path of `[load.paths]`.
pub const PATHS: [&str; 16] = [
    "simplified_phone",
    "simplified_email",
    "standard",
    "service_center",
    "post",
    "e_signature",
    "bank_sber",
    "bank_tinkoff",
    "bank_pochta",
    "mfc",
    "wrong_code",
    "expired_code",
    "weak_password",
    "documents_bound",
    "pfr_mismatch",
    "lost_letter",
];

/// Agencies with their calibrated delays but none of their random faults (errors, timeouts,
/// losses, refusals), so that a journey's outcome never depends on a draw.
pub const FAULTLESS: &str = r#"
[agencies.pfr]
error_rate = 0.0
timeout_rate = 0.0
[agencies.fms]
error_rate = 0.0
timeout_rate = 0.0
[agencies.sms]
error_rate = 0.0
loss_rate = 0.0
[agencies.mail]
error_rate = 0.0
loss_rate = 0.0
[agencies.post]
error_rate = 0.0
loss_rate = 0.0
[agencies.banks.sber]
error_rate = 0.0
timeout_rate = 0.0
[agencies.banks.tinkoff]
error_rate = 0.0
timeout_rate = 0.0
[agencies.banks.pochta]
error_rate = 0.0
timeout_rate = 0.0
[agencies.centers]
error_rate = 0.0
refusal_rate = 0.0
"#;

/// A scenario file of these tests: `paths` with their shares (the others 0), the agencies'
/// delays divided by 8,640,000 (a day in 10 ms) without their faults, passwords unhashed, the
/// closed model, thresholds on errors only.
pub fn scenario(name: &str, paths: &[(&str, f64)]) -> PathBuf {
    let mut toml = format!(
        r#"name = "{name}"
seed = 1

[load]
population = 2000
speedup = 8640000.0
hash_profile = "none"
ramp = "200ms"
poll_interval = "10ms"
wait_timeout = "30s"
running_metrics = "0s"
progress = "0s"

[load.thresholds]
error_rate = 0.01
request_p95 = "1h"
request_p95_by_step = {{}}

[load.paths]
"#
    );
    for p in PATHS {
        let share = paths.iter().find(|(q, _)| *q == p).map_or(0.0, |(_, s)| *s);
        toml.push_str(&format!("{p} = {share}\n"));
    }
    toml.push_str(FAULTLESS);
    let dir = scratch(&format!("scenario-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scenario.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Removes the folders (and the folders of the files) a test wrote.
pub fn forget(paths: &[&Path]) {
    for p in paths {
        let dir = if p.is_file() { p.parent() } else { Some(*p) };
        if let Some(d) = dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
