//! Records the compiler that built the library, for `native_version()`:
//! a benchmark figure is only meaningful with the toolchain that produced it.

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "rustc (unknown version)".into(), |v| v.trim().to_string());
    println!("cargo:rustc-env=TC_RUSTC_VERSION={version}");
    println!("cargo:rustc-env=TC_PROFILE={}", std::env::var("PROFILE").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
}
