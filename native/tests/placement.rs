//! Where the engine's threads run. In a test binary of their own: they read
//! every thread of the process, and take turns (`SERIAL`) so that each sees
//! only the journal it opened.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tradecaptain_native::engine::*;

/// One test at a time: each counts the process's preparation threads.
static SERIAL: Mutex<()> = Mutex::new(());

/// Polls the preparation thread's allowed CPUs until `done` says so or 5 s pass.
fn preparation_cpus_until(done: impl Fn(&[usize]) -> bool) -> Vec<Vec<usize>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = threads_named("tc-journal-prep");
        if now.first().is_some_and(|cpus| done(cpus)) || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

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
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("tc-placement-{}-off", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut engine = Engine::new(&[1], 64, 64).unwrap();
    engine.open_journal(common::journal_options(&dir, b"{}")).unwrap();
    let before = preparation_cpus_until(|_| true);
    assert_eq!(before.len(), 1, "one preparation thread: {before:?}");
    let placement = engine.start(-1).unwrap();
    let cpu = placement.cpu as usize;
    let allowed_before = &before[0];
    let after = preparation_cpus_until(|cpus| !cpus.contains(&cpu));
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

#[test]
fn segment_preparation_is_not_pinned_with_the_thread_that_opened_the_journal() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let online = std::thread::available_parallelism().map_or(1, |n| n.get());
    // On a thread of its own, so that its pin ends with it.
    std::thread::spawn(move || {
        let pinned = libc_pin(0);
        let dir = std::env::temp_dir().join(format!("tc-placement-{}-pin", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut engine = Engine::new(&[1], 64, 64).unwrap();
        engine.open_journal(common::journal_options(&dir, b"{}")).unwrap();
        let after = preparation_cpus_until(|cpus| cpus.len() > 1);
        assert_eq!(after.len(), 1, "one preparation thread: {after:?}");
        if pinned && online > 1 {
            assert!(after[0].len() > 1 && after[0].contains(&0), "pinned with its opener: {after:?}");
        }
        drop(engine);
        let _ = std::fs::remove_dir_all(&dir);
    })
    .join()
    .unwrap();
}

/// Pins the calling thread to `cpu`, as Deno's thread is pinned; false if refused.
fn libc_pin(cpu: usize) -> bool {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set; cpu 0 < CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Set in the child process of the test below.
const CONFINED_CHILD: &str = "TC_PLACEMENT_CONFINED_CHILD";

#[test]
fn a_process_confined_to_one_cpu_keeps_its_preparation_there() {
    if std::env::var_os(CONFINED_CHILD).is_some() {
        // The child: confined to CPU 0 from before it started, as by `taskset -c 0`.
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!("tc-placement-{}-confined", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut engine = Engine::new(&[1], 64, 64).unwrap();
        engine.open_journal(common::journal_options(&dir, b"{}")).unwrap();
        // Give the thread time to widen itself, were it going to.
        std::thread::sleep(Duration::from_millis(100));
        let cpus = preparation_cpus_until(|_| true);
        assert_eq!(cpus, vec![vec![0]], "the preparation thread left the process's one CPU");
        drop(engine);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "a_process_confined_to_one_cpu_keeps_its_preparation_there", "--nocapture"])
        .env(CONFINED_CHILD, "1");
    // SAFETY: between fork and exec the closure only calls sched_setaffinity
    // on a zeroed cpu_set_t (async-signal-safe; no allocation, no locks).
    unsafe {
        child.pre_exec(|| if libc_pin(0) { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let out = child.output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the confined child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
