//! Running fixture files and folders: collecting files, running them in parallel and
//! counting the outcomes.

use super::{
    chain::{TestOutcome, run_test},
    executor::BlockExecutor,
    fixture::{parse_fixture, parse_test},
};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// A test that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file and the test name (`file::name`).
    pub test: String,
    /// What went wrong.
    pub message: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed, sorted by name.
    pub failures: Vec<Failure>,
    /// Tests of networks the runner does not execute.
    pub skipped: usize,
}

impl Summary {
    /// `N passed, M failed, K skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failures.len(),
            self.skipped
        )
    }

    fn merge(mut self, other: Self) -> Self {
        self.passed += other.passed;
        self.skipped += other.skipped;
        self.failures.extend(other.failures);
        self
    }
}

/// Options of a run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Worker threads; fixture files, and the tests within a file, run in parallel on them.
    pub threads: usize,
}

/// Runs every fixture file under `paths` (files, or folders searched recursively for
/// `.json` files) with `executor`.
pub fn run_paths(
    paths: &[PathBuf],
    executor: &dyn BlockExecutor,
    options: RunOptions,
) -> Result<Summary, String> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    files.sort();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
        .map_err(|e| format!("thread pool: {e}"))?;
    let mut summary = pool.install(|| {
        files
            .par_iter()
            .map(|file| run_file(file, executor))
            .reduce(Summary::default, Summary::merge)
    });
    summary.failures.sort_by(|a, b| a.test.cmp(&b.test));
    Ok(summary)
}

/// Adds `path` (a file) or the `.json` files below it (a folder) to `files`.
fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        let child = entry.path();
        if child.is_dir() {
            collect_files(&child, files)?;
        } else if child.extension().is_some_and(|ext| ext == "json") {
            files.push(child);
        }
    }
    Ok(())
}

/// Runs all tests of one file (in parallel on the current rayon pool); an unreadable file
/// counts as one failure.
pub fn run_file(file: &Path, executor: &dyn BlockExecutor) -> Summary {
    let name = file.display().to_string();
    let tests = std::fs::read_to_string(file)
        .map_err(|e| format!("read: {e}"))
        .and_then(|text| parse_fixture(&text));
    let tests = match tests {
        Ok(tests) => tests,
        Err(message) => return failed(name, message),
    };
    tests
        .into_par_iter()
        .map(|(test_name, value)| run_named(format!("{name}::{test_name}"), value, executor))
        .reduce(Summary::default, Summary::merge)
}

/// Runs one test of a file and counts its outcome.
fn run_named(full: String, value: serde_json::Value, executor: &dyn BlockExecutor) -> Summary {
    let outcome = match parse_test(value) {
        Ok(test) => run_test(&test, executor),
        Err(message) => TestOutcome::Failed(message),
    };
    tracing::debug!(target: "altius::blocktest", test = %full, ?outcome, "test done");
    let mut summary = Summary::default();
    match outcome {
        TestOutcome::Passed => summary.passed += 1,
        TestOutcome::Skipped(_) => summary.skipped += 1,
        TestOutcome::Failed(message) => summary.failures.push(Failure {
            test: full,
            message,
        }),
    }
    summary
}

/// A summary of one failure.
fn failed(test: String, message: String) -> Summary {
    Summary {
        failures: vec![Failure { test, message }],
        ..Summary::default()
    }
}
