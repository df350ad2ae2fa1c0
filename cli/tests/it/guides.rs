//! The guides are tests: every command block of README.md and docs/*.md runs here, top to
//! bottom, each guide in a fresh copy of the repository, and what a block shows a command
//! printing is compared with what it prints. A guide that drifts from the binary fails.
//!
//! A command block is a fenced `console` block, written as a terminal session:
//! - `$ ` starts a command and `> ` continues it (a heredoc, a long pipe);
//! - the lines after it, up to the next `$ `, are what it prints, stdout and stderr
//!   together, matched as snapbox matches: `...` on a line of its own stands for any number
//!   of lines, `[..]` for any text within a line;
//! - `? N` (or `? failed`) as the first of those lines says the command exits with N
//!   (or with any failure); otherwise it must succeed.
//!
//! A fenced `diff` block is a change the guide makes: it is applied with `git apply`, and
//! must apply cleanly. Blocks tagged `sh`, `bash` or `shell` are refused: a command a guide shows is a command
//! the suite runs. The commands run in one bash, so variables, `cd` and background servers
//! carry from one command to the next; background jobs are killed at the end.
//!
//! Two ways to run a guide:
//! - as a user of the installed tools (README and every guide but AUTHORS.md): `prepaid`
//!   is the binary under test, the component is the one `cargo xtask test` built, and
//!   `cargo xtask …` is this workspace's xtask. Any other `cargo` command is refused.
//! - as a contract author (AUTHORS.md): the copy is a git repository of its own and
//!   `cargo` is the real cargo, building the copy (with its own target directory, kept
//!   between runs), so the guide's edit, build, fast test loop and golden acceptance run
//!   exactly as an author would run them.
//!
//! Either way `cargo xtask test` is not run: it is the suite that runs this test (CI's
//! `.ci/run` runs it).

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::workspace;
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// One command of a guide and what the guide shows it printing.
#[derive(Debug)]
struct Step {
    /// Where the command is: `README.md:42`.
    place: String,
    command: String,
    /// The exit status the guide implies: `Some(0)` by default, `None` for "any failure".
    status: Option<i32>,
    output: String,
}

/// The command blocks of a markdown file, as steps.
fn steps(file: &Path) -> Vec<Step> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|error| panic!("reading {}: {error}", file.display()));
    let name = file.strip_prefix(workspace()).unwrap_or(file).display().to_string();
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut steps = Vec::new();
    let mut block: Option<(String, usize)> = None;
    let mut body = String::new();
    for (event, range) in Parser::new(&text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                block = Some((
                    info.split([',', ' ']).next().unwrap_or_default().to_string(),
                    line_of(range.start),
                ));
                body.clear();
            }
            Event::Text(chunk) if block.is_some() => body.push_str(&chunk),
            Event::End(TagEnd::CodeBlock) => {
                let Some((lang, line)) = block.take() else { continue };
                match lang.as_str() {
                    "console" => steps.extend(parse_session(&body, &name, line + 1)),
                    // A change the guide makes to the repository, applied as shown.
                    "diff" => steps.push(Step {
                        place: format!("{name}:{line}"),
                        command: format!("git apply <<'GUIDE-DIFF'\n{body}GUIDE-DIFF"),
                        status: Some(0),
                        output: String::new(),
                    }),
                    "sh" | "bash" | "shell" | "zsh" => panic!(
                        "{name}:{line}: a `{lang}` block: write commands as a `console` session \
                         (`$ command`, then what it prints) so that the guide tests run them"
                    ),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    steps
}

/// A console session's commands, the first of them on line `first_line` of `name`.
fn parse_session(body: &str, name: &str, first_line: usize) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for (index, line) in body.lines().enumerate() {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                place: format!("{name}:{}", first_line + index),
                command: command.to_string(),
                status: Some(0),
                output: String::new(),
            });
            continue;
        }
        let Some(step) = steps.last_mut() else {
            panic!("{name}:{}: a console block starts with `$ command`", first_line + index);
        };
        if let Some(more) = line.strip_prefix("> ").or((line == ">").then_some("")) {
            if step.output.is_empty() {
                step.command.push('\n');
                step.command.push_str(more);
                continue;
            }
        }
        if let Some(status) = line.strip_prefix("? ").filter(|_| step.output.is_empty()) {
            step.status = match status {
                "failed" => None,
                code => Some(code.parse().unwrap_or_else(|_| {
                    panic!("{name}:{}: `? {code}`: an exit status or `failed`", first_line + index)
                })),
            };
            continue;
        }
        step.output.push_str(line);
        step.output.push('\n');
    }
    steps
}

/// How a guide's commands reach the project's tools.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// Someone using the installed `prepaid` and `cargo xtask`.
    User,
    /// A contract author building and testing the copy with cargo.
    Author,
}

/// Copies the repository's files (tracked, and new ones not ignored), keeping their times
/// so that cargo's builds of the copy stay incremental between runs.
fn copy_repository(to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap_or_else(|error| panic!("removing {}: {error}", to.display()));
    }
    std::fs::create_dir_all(to).unwrap();
    let listed = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(workspace())
        .output()
        .expect("the guide tests copy the repository with git ls-files");
    assert!(listed.status.success(), "git ls-files failed");
    let files: Vec<u8> = listed
        .stdout
        .split(|byte| *byte == 0)
        .filter(|file| !file.is_empty() && workspace().join(String::from_utf8_lossy(file).as_ref()).exists())
        .flat_map(|file| file.iter().copied().chain([0]))
        .collect();
    let status = Command::new("bash")
        .args([
            "-c",
            "tar --null -T - -cf - | tar -xf - -C \"$0\"",
            &to.display().to_string(),
        ])
        .current_dir(workspace())
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut tar| {
            use std::io::Write as _;
            tar.stdin.take().expect("piped").write_all(&files)?;
            tar.wait()
        })
        .expect("copying the repository with tar");
    assert!(status.success(), "copying the repository failed");
}

/// The shell prelude for `reader`, given the copy at `repo`.
fn prelude(reader: Reader, repo: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_prepaid")).parent().unwrap().to_path_buf();
    let mut prelude = format!(
        // PREPAID_CACHE stays: the suite's artifact cache changes nothing a command prints,
        // and spares each command compiling the component again.
        "set -o pipefail\ncd '{}'\nexport PATH='{}':\"$PATH\" CARGO_TERM_COLOR=never NO_COLOR=1\nunset RUST_LOG RUST_BACKTRACE PREPAID_TOOLCHAIN PREPAID_ACCEPT_GOLDEN\n",
        repo.display(),
        bin.display()
    );
    match reader {
        Reader::User => {
            let xtask = bin.join("xtask");
            assert!(
                xtask.exists(),
                "{} is missing; run the tests with `cargo xtask test`, which builds it",
                xtask.display()
            );
            prelude.push_str(&format!(
                "unset PREPAID_COMPONENT PREPAID_GUESTS\n\
                 cargo() {{\n\
                   if [ \"$1\" = xtask ] && [ \"$2\" != test ]; then shift; '{}' \"$@\"; return; fi\n\
                   echo \"the guide tests do not run: cargo $*\" >&2; return 99\n\
                 }}\n",
                xtask.display()
            ));
        }
        Reader::Author => {
            // What cargo compiles for the copy goes to this workspace's build directory,
            // where every dependency is compiled already, so only the copy's own crates
            // are built (`cargo xtask test` runs this binary outside cargo, whose lock on
            // that directory would otherwise wait for this test to end). Cargo names a
            // workspace's crates by their path inside the workspace, so the copy's would
            // take the place of this workspace's (its xtask, its edited rules): the copy's
            // crates get a version of their own, and its final artifacts (its xtask, its
            // component) a target directory of its own, before the guide finds the copy.
            let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
            let build_dir = target
                .parent()
                .expect("CARGO_TARGET_TMPDIR is inside the target directory");
            prelude.push_str(&format!(
                "export CARGO_TARGET_DIR='{}' CARGO_BUILD_BUILD_DIR='{}' PREPAID_COMPONENT='{}/target/contract/prepaid_contract.wasm'\n\
                 unset PREPAID_GUESTS\n\
                 export GIT_AUTHOR_NAME=guide GIT_AUTHOR_EMAIL=guide@example.invalid GIT_COMMITTER_NAME=guide GIT_COMMITTER_EMAIL=guide@example.invalid\n\
                 sed -i 's/^version = \"\\(.*\\)\"$/version = \"\\1-guide\"/' Cargo.toml && cargo update -q --workspace --offline\n\
                 git init -q && git add -A && git commit -q -m 'the repository as the guide finds it'\n",
                target.join("guides/author-target").display(),
                build_dir.display(),
                repo.display()
            ));
        }
    }
    prelude
}

/// Runs every command block of `guide` (a path from the workspace root) as `reader`, and
/// fails naming every command whose status or output differs from what the guide shows.
fn run_guide(guide: &str, reader: Reader) {
    // `cargo xtask test` is the suite running this; `.ci/run` runs it.
    let steps: Vec<Step> = steps(&workspace().join(guide))
        .into_iter()
        .filter(|step| !is_the_suite(&step.command))
        .collect();
    assert!(!steps.is_empty(), "{guide} has no command blocks");
    let stem = guide.trim_end_matches(".md").replace('/', "-");
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guides").join(&stem);
    let repo = base.join("repo");
    let outputs = base.join("outputs");
    copy_repository(&repo);
    let _ = std::fs::remove_dir_all(&outputs);
    std::fs::create_dir_all(&outputs).unwrap();
    let root = workspace();
    // The toolchain the build fetches (`.toolchain/`) is shared, not fetched again.
    std::fs::create_dir_all(root.join(".toolchain")).unwrap();
    std::os::unix::fs::symlink(root.join(".toolchain"), repo.join(".toolchain")).unwrap();
    if reader == Reader::User {
        // The set-up has been done: the component `cargo xtask contract` builds is there.
        std::fs::create_dir_all(repo.join("target")).unwrap();
        std::os::unix::fs::symlink(root.join("target/contract"), repo.join("target/contract")).unwrap();
    }

    let mut script = prelude(reader, &repo);
    if steps.iter().any(|step| step.command.contains("$DATABASE_URL")) {
        // The guide's PostgreSQL: a fresh database on the server `cargo xtask test` starts.
        let admin = std::env::var("PREPAID_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!("{guide} uses PostgreSQL: run the tests with `cargo xtask test`, which starts a server")
        });
        let tls = std::env::var("PREPAID_TEST_POSTGRES_TLS").expect("cargo xtask test sets PREPAID_TEST_POSTGRES_TLS");
        let url = prepaid_host::store::postgres::create_database(
            &admin,
            &format!("guide_{}_{}", stem.to_lowercase().replace('-', "_"), std::process::id()),
        )
        .unwrap_or_else(|error| panic!("creating {guide}'s database: {error:#}"));
        script.push_str(&format!(
            "export DATABASE_URL='{url}' DATABASE_CA='{}/ca.crt'\n",
            Path::new(&tls).display()
        ));
    }
    for (index, step) in steps.iter().enumerate() {
        script.push_str(&format!(
            "{{\n{}\n}} > '{out}/{index}.out' 2>&1 < /dev/null\necho $? > '{out}/{index}.status'\n",
            step.command,
            out = outputs.display()
        ));
    }
    script.push_str("kill $(jobs -p) 2>/dev/null; wait\n");
    std::fs::write(base.join("guide.sh"), &script).unwrap();

    let mut bash = Command::new("bash")
        .arg(base.join("guide.sh"))
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("running bash");
    let started = Instant::now();
    while bash.try_wait().unwrap().is_none() {
        if started.elapsed() > GUIDE_TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", bash.id())])
                .status();
            panic!(
                "{guide} did not finish in {GUIDE_TIMEOUT:?}; its outputs are in {}",
                outputs.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let assert = snapbox::Assert::new().normalize_paths(false);
    let mut failures = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let output = std::fs::read_to_string(outputs.join(format!("{index}.out"))).unwrap_or_default();
        let status: Option<i32> = std::fs::read_to_string(outputs.join(format!("{index}.status")))
            .ok()
            .and_then(|status| status.trim().parse().ok());
        let status_ok = match (step.status, status) {
            (_, None) => false,
            (Some(expected), Some(actual)) => expected == actual,
            (None, Some(actual)) => actual != 0,
        };
        // Blank lines before or after the output are not something a reader sees in a guide.
        let (actual, expected) = (output.trim_matches('\n'), step.output.trim_matches('\n'));
        let output_ok = assert
            .try_eq(None, actual.to_owned().into(), expected.to_owned().into())
            .map_err(|error| error.to_string());
        if !status_ok || output_ok.is_err() {
            failures.push(format!(
                "{}: $ {}\n  exit status {} (the guide expects {})\n{}",
                step.place,
                step.command,
                status.map_or("none (not run)".into(), |status| status.to_string()),
                step.status.map_or("a failure".into(), |status| status.to_string()),
                match output_ok {
                    Ok(()) => String::new(),
                    Err(diff) => diff,
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} commands of {guide} do not do what it shows (run in {}):\n\n{}",
        failures.len(),
        steps.len(),
        repo.display(),
        failures.join("\n\n")
    );
}

/// Whether `command` is `cargo xtask test` itself (with a comment at most), which the
/// suite does not run inside itself.
fn is_the_suite(command: &str) -> bool {
    let command = command.split('#').next().unwrap_or_default().trim();
    command == "cargo xtask test"
}

/// The longest a guide may take: the author's guide builds and tests a copy of the project.
const GUIDE_TIMEOUT: Duration = Duration::from_secs(40 * 60);

#[test]
fn readme() {
    run_guide("README.md", Reader::User);
}

#[test]
fn auditors_guide() {
    run_guide("docs/AUDITORS.md", Reader::User);
}

#[test]
fn scenario_format() {
    run_guide("docs/SCENARIOS.md", Reader::User);
}

#[test]
fn authors_guide() {
    run_guide("docs/AUTHORS.md", Reader::Author);
}

/// Every markdown file of the project is one of the guides above, or has no command blocks.
#[test]
fn every_guide_with_commands_is_run() {
    let run = ["README.md", "docs/AUDITORS.md", "docs/SCENARIOS.md", "docs/AUTHORS.md"];
    let mut files = vec![workspace().join("README.md")];
    for entry in std::fs::read_dir(workspace().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "md") {
            files.push(path);
        }
    }
    for file in files {
        let name = file.strip_prefix(workspace()).unwrap().display().to_string();
        if !run.contains(&name.as_str()) {
            assert!(
                steps(&file).is_empty(),
                "{name} has command blocks but no test runs it: add it to the guide tests"
            );
        }
    }
}
