//! Where the engine's threads run. Alone in its test binary: it reads every
//! thread of the process, and no other test may start journals meanwhile.

mod common;

use std::time::{Duration, Instant};
use tradecaptain_native::engine::*;

/// The CPUs in a `Cpus_allowed_list` value such as `0-2,5`.
fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap()),
            None => cpus.push(part.parse().unwrap()),
        }
    }
    cpus
}

/// The allowed CPUs of each of this process's threads named `name`.
fn threads_named(name: &str) -> Vec<Vec<usize>> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().filter_map(Result::ok) {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let list = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap_or("");
        found.push(parse_cpu_list(list));
    }
    found
}

#[test]
fn cpu_lists_parse() {
    assert_eq!(parse_cpu_list("0-2,5\n"), vec![0, 1, 2, 5]);
    assert_eq!(parse_cpu_list("3"), vec![3]);
}

#[test]
fn segment_preparation_keeps_off_the_engines_cpu_when_it_can() {
    let dir = std::env::temp_dir().join(format!("tc-placement-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    engine.open_journal(common::journal_options(&dir, b"{}")).unwrap();
    let before = threads_named("tc-journal-prep");
    assert_eq!(before.len(), 1, "one preparation thread: {before:?}");
    let placement = engine.start(-1).unwrap();
    let cpu = placement.cpu as usize;
    let allowed_before = &before[0];
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let now = threads_named("tc-journal-prep");
        let moved = now.first().is_some_and(|cpus| !cpus.contains(&cpu));
        if moved || Instant::now() > deadline {
            break now;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if allowed_before.contains(&cpu) && allowed_before.len() > 1 {
        let mut expected = allowed_before.clone();
        expected.retain(|&c| c != cpu);
        assert_eq!(after, vec![expected], "the preparation thread leaves CPU {cpu} to the engine");
    } else {
        // The engine's CPU was its only one, or not one of them: nothing to change.
        assert_eq!(after, before);
    }
    engine.stop().unwrap();
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
}
