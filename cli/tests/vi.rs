//! `cli vi` end to end: a short fit writes a checkpoint that `sample` and
//! `eval` read, reports a KL consistent with its ELBO and log Z, and bad
//! targets and settings are refused in one line.

mod common;

use common::{assert_no_temporaries, cli, fresh_dir, summary_value};

/// A fit of about a second: 2000 steps of 8 planar layers.
const SHORT: &[&str] = &[
    "--steps",
    "2000",
    "--layers",
    "8",
    "--final-samples",
    "5000",
];

#[test]
fn a_fit_is_reported_saved_and_sampled() {
    let dir = fresh_dir("vi", "fit");
    let mut args = vec!["vi", "--target", "banana", "--out", "run"];
    args.extend_from_slice(SHORT);
    let out = cli(&dir, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (elbo, log_z, kl) = (
        summary_value(&stdout, "ELBO"),
        summary_value(&stdout, "log Z"),
        summary_value(&stdout, "KL(q‖p)"),
    );
    // banana: Z = 2π·spread = π exactly.
    assert!((log_z - std::f64::consts::PI.ln()).abs() < 1e-4, "{stdout}");
    assert!((kl - (log_z - elbo)).abs() < 2e-4, "{stdout}");
    assert!(
        kl > 0.0 && kl < 0.15,
        "a short fit should be close: {stdout}"
    );
    let ess = summary_value(&stdout, "ESS");
    assert!(ess > 10.0 && ess <= 100.0, "{stdout}");
    for file in [
        "model.json",
        "metrics.csv",
        "1_target.png",
        "2_flow_density.png",
        "3_samples.png",
        "4_elbo.png",
    ] {
        assert!(dir.join("run").join(file).is_file(), "{file} missing");
    }
    assert_no_temporaries(&dir.join("run"));
    let metrics = std::fs::read_to_string(dir.join("run/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().next(), Some("step,beta,loss,elbo,seconds"));
    assert_eq!(
        metrics.lines().count(),
        1 + 2001,
        "a row per step and row 0"
    );

    let sampled = cli(&dir, &["sample", "--model", "run/model.json", "-n", "2000"]);
    assert!(
        sampled.status.success(),
        "{}",
        String::from_utf8_lossy(&sampled.stderr)
    );
    let rows: Vec<Vec<f64>> = String::from_utf8_lossy(&sampled.stdout)
        .lines()
        .filter_map(|l| l.split(',').map(|v| v.parse().ok()).collect())
        .collect();
    assert_eq!(rows.len(), 2000);
    // The banana's first coordinate is N(0, 1): the samples' mean and spread
    // are near 0 and 1 after even a short fit.
    let mean = rows.iter().map(|r| r[0]).sum::<f64>() / 2000.0;
    let var = rows.iter().map(|r| (r[0] - mean).powi(2)).sum::<f64>() / 1999.0;
    assert!(
        mean.abs() < 0.2 && (var - 1.0).abs() < 0.3,
        "mean {mean}, var {var}"
    );

    std::fs::write(dir.join("points.csv"), "0.0,-1.0\n1.0,0.0\n").unwrap();
    let eval = cli(
        &dir,
        &["eval", "--model", "run/model.json", "--data", "points.csv"],
    );
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
}

#[test]
fn bad_targets_and_settings_are_refused_in_one_line() {
    let dir = fresh_dir("vi", "refused");
    for (args, expected) in [
        (vec!["--target", "u9"], "--target: unknown target \"u9\""),
        (
            vec!["--target", "mixture:k=0"],
            "--target: target parameter k=0",
        ),
        (
            vec!["--target", "banana:size=2"],
            "has no parameter \"size\"",
        ),
        (vec!["--samples", "0"], "--samples 0"),
        (vec!["--steps", "0"], "--steps 0"),
        (vec!["--lr", "-1"], "--lr -1"),
        (vec!["--anneal", "2"], "--anneal 2"),
        (vec!["--final-samples", "0"], "--final-samples 0"),
        (vec!["--samples", "100000000000"], "--samples 100000000000"),
    ] {
        let mut full = vec!["vi", "--out", "run"];
        full.extend(args.iter());
        let out = cli(&dir, &full);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!dir.join("run").exists(), "{args:?} wrote a run folder");
    }
}
