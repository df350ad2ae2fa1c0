//! The host's floors: no import cycle among `prepaid-host`'s top-level modules, so that each
//! can be read, tested and changed without the ones above it (docs/DESIGN.md, "Floors").
//!
//! Read from the source as text: every `crate::name` a module names outside its
//! `#[cfg(test)]` items is an arrow from that module to `name`'s module (a name the crate
//! root re-exports counts as the module it comes from).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where the host's source is.
fn host_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|error| panic!("reading {}: {error}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files
}

/// `text` without comments and without the item after each `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let text: String = text
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let mut code = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let item = &rest[at..];
        // The item ends at its `;` or at the brace closing its first `{`.
        let (brace, semicolon) = (item.find('{'), item.find(';'));
        let end = match (brace, semicolon) {
            (Some(brace), Some(semicolon)) if semicolon < brace => semicolon + 1,
            (Some(brace), _) => brace + closing(&item[brace..]),
            (None, Some(semicolon)) => semicolon + 1,
            (None, None) => item.len(),
        };
        rest = &item[end..];
    }
    code.push_str(rest);
    code
}

/// The length of `text` up to and including the brace that closes its first one.
fn closing(text: &str) -> usize {
    let mut depth = 0;
    for (index, character) in text.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|character: char| !(character.is_alphanumeric() || character == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first name of each path after `crate::` in `code`: `crate::a::b` and
/// `crate::{a::b, c}` name `a` (and `c`).
fn crate_names(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let after = &code[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let group = &group[..closing(after) - 2];
            let mut depth = 0;
            let mut start = 0;
            for (index, character) in group.char_indices().chain([(group.len(), ',')]) {
                match character {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        let name = identifier(group[start..index].trim());
                        if !name.is_empty() {
                            names.push(name.to_string());
                        }
                        start = index + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(identifier(after).to_string());
        }
    }
    names
}

/// The names lib.rs re-exports, with the module each comes from (`Ledger` -> `ledger`).
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let mut exports = BTreeMap::new();
    for statement in code_of(lib).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = identifier(path).to_string();
        let names = path[module.len()..].trim_start_matches("::");
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            exports.insert(identifier(name.trim()).to_string(), module.clone());
        }
    }
    exports
}

/// The import graph of the host's top-level modules: for each, the modules it names, with
/// the files and names that do.
fn module_graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = host_src();
    let exports = root_exports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" {
            continue;
        }
        let arrows = graph.entry(module.clone()).or_default();
        for name in crate_names(&code_of(&std::fs::read_to_string(&file).unwrap())) {
            let target = exports.get(&name).cloned().unwrap_or_else(|| name.clone());
            if target != module {
                arrows
                    .entry(target)
                    .or_default()
                    .insert(format!("{} ({name})", relative.display()));
            }
        }
    }
    graph
}

/// A cycle of `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|on| on == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_hosts_modules_import_one_another_without_a_cycle() {
    let graph = module_graph();
    assert!(
        graph.len() > 10,
        "read only {:?} from {}",
        graph.keys(),
        host_src().display()
    );
    if let Some(cycle) = find_cycle(&graph) {
        let ties: Vec<String> = cycle
            .windows(2)
            .map(|pair| {
                let by: Vec<&String> = graph[&pair[0]][&pair[1]].iter().collect();
                format!("  {} -> {}: {by:?}", pair[0], pair[1])
            })
            .collect();
        panic!(
            "the host's modules import one another in a cycle: {}\n{}",
            cycle.join(" -> "),
            ties.join("\n")
        );
    }
}

/// The check itself finds a cycle, and the names that tie it.
#[test]
fn the_floor_check_sees_a_cycle_and_what_ties_it() {
    assert_eq!(
        crate_names("use crate::{a::b, c::{d, e}};\nlet x = crate::f::g();"),
        ["a", "c", "f"]
    );
    assert_eq!(
        code_of("use crate::a;\n#[cfg(test)]\nmod tests {\n use crate::b; { }\n}\n// crate::c\nuse crate::d;"),
        "use crate::a;\n\n\nuse crate::d;"
    );
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
        graph.entry(from.into()).or_default().entry(to.into()).or_default();
    }
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);
}
