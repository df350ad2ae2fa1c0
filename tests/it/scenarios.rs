//! Every scenario file through the real component, and the native rules as the oracle.

use std::path::Path;

use prepaid_host::testkit::scenario::{self, RunReport, Scenario};
use prepaid_host::testkit::snapshot;
use prepaid_host::NativeRules;
use prepaid_host::Rules;
use prepaid_tests::{component_bytes, ledger_in, scenario_files};

/// Set to accept changed golden traces (then review `git diff tests/golden`).
const ACCEPT: &str = "PREPAID_ACCEPT_GOLDEN";
/// The command that accepts them: the scenario tests alone, not the whole suite.
const ACCEPT_COMMAND: &str = "PREPAID_ACCEPT_GOLDEN=1 cargo test -p prepaid-tests --test it scenarios::";

/// Checks `run` against the golden trace of `file` in tests/golden/, or rewrites the trace
/// when `PREPAID_ACCEPT_GOLDEN` is set. Returns what differs.
fn check_golden(file: &Path, run: &RunReport) -> Option<String> {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(file.file_stem().unwrap())
        .with_extension("jsonl");
    let trace = snapshot::trace(run);
    if std::env::var_os(ACCEPT).is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, trace).unwrap();
        return None;
    }
    let Ok(recorded) = std::fs::read_to_string(&golden) else {
        return Some(format!(
            "{} has no golden trace; create it with {ACCEPT_COMMAND}",
            file.display()
        ));
    };
    snapshot::diff(&recorded, &trace).map(|diff| {
        format!(
            "{} no longer matches its golden trace {}:\n{diff}",
            file.display(),
            golden.display()
        )
    })
}

/// Every file runs, and every failure of every file is reported together: a rule change
/// that moves several files' traces shows all of them in one run, and accepting the
/// traces (`PREPAID_ACCEPT_GOLDEN`) writes every file's even where an `expect` fails.
#[test]
fn every_scenario_holds_its_expects_matches_its_golden_trace_and_verifies() {
    let files = scenario_files();
    assert!(files.len() >= 6, "the scenario files are missing");
    let (mut failed_expects, mut moved_traces) = (Vec::new(), Vec::new());
    for file in files {
        let scenario = Scenario::load(&file).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger_in(dir.path());
        let mut output = Vec::new();
        let run = scenario::run(&scenario, &ledger, &mut output).unwrap();
        failed_expects.extend(
            run.mismatches
                .iter()
                .map(|mismatch| format!("{}: {mismatch}", file.display())),
        );
        moved_traces.extend(check_golden(&file, &run));
        let lines = String::from_utf8(output).unwrap();
        assert_eq!(
            lines.lines().count(),
            scenario.steps.len(),
            "{}: one line per step",
            file.display()
        );
        let report = ledger.verify().unwrap();
        assert!(report.is_clean(), "{}: {:?}", file.display(), report.divergences);
    }
    let mut report = String::new();
    if !failed_expects.is_empty() {
        report += &format!(
            "{} expect(s) failed; the scenario files hold them, fix the rule or the file:\n{}\n\n",
            failed_expects.len(),
            failed_expects.join("\n")
        );
    }
    if !moved_traces.is_empty() {
        report += &format!(
            "{} golden trace(s) moved; if the change is intended, accept them with `{ACCEPT_COMMAND}` \
             and review `git diff tests/golden`:\n{}",
            moved_traces.len(),
            moved_traces.join("\n")
        );
    }
    assert!(report.is_empty(), "{report}");
}

/// Native and wasm give the same verdicts, state bytes and views on every step of every
/// scenario; the wasm side also reports the fuel it used.
#[test]
fn native_and_wasm_agree_on_every_scenario() {
    let wasm = prepaid_tests::engine().load(&component_bytes()).unwrap();
    for file in scenario_files() {
        let scenario = Scenario::load(&file).unwrap();
        let mut states: std::collections::HashMap<String, Vec<u8>> = Default::default();
        for (step, raw) in scenario.raw_events().unwrap().into_iter().enumerate() {
            let Ok(ctx) = raw.context() else { continue };
            let state = states.get(&raw.wallet).cloned();
            let native = NativeRules.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
            let component = wasm.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
            let place = format!("{} step {step}", file.display());
            assert_eq!(native.verdict, component.verdict, "{place}: verdicts differ");
            assert_eq!(native.state, component.state, "{place}: states differ");
            assert!(component.fuel > 0, "{place}: the component reports no fuel");
            if let Some(new_state) = component.state {
                assert_eq!(
                    NativeRules.view(&new_state).unwrap(),
                    wasm.view(&new_state).unwrap(),
                    "{place}: views differ"
                );
                states.insert(raw.wallet.clone(), new_state);
            }
        }
    }
}

/// The same event on the same state gives the same bytes and the same fuel every time.
#[test]
fn the_component_is_deterministic() {
    let engine = prepaid_tests::engine();
    let first = engine.load(&component_bytes()).unwrap();
    let second = engine.load(&component_bytes()).unwrap();
    let scenario = Scenario::load(&scenario_files()[0]).unwrap();
    let mut state: Option<Vec<u8>> = None;
    for raw in scenario
        .raw_events()
        .unwrap()
        .iter()
        .filter(|raw| raw.wallet == scenario.steps[0].wallet)
    {
        let ctx = raw.context().unwrap();
        let a = first.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
        let b = second.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
        let c = first.apply(state.as_deref(), &ctx, &raw.body()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        state = a.state.or(state);
    }
}
