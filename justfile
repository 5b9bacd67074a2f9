# Mirrors deno.json's tasks for those who type `just`. Deno comes from npm.
deno := "npx --yes deno@2.9.6"

# Run the core with the synthetic market.
start:
    {{deno}} task start

# Every test: Rust, then Deno (with doc examples).
test:
    {{deno}} task test

# Every check: fmt, lint, types, tests, cargo fmt, clippy.
ok:
    {{deno}} task ok

# The performance regression gate.
bench *args:
    {{deno}} task bench {{args}}

# Replay tool: JSON Lines commands on stdin, events on stdout.
match *args:
    {{deno}} task match {{args}}

# Build the Rust kernels.
build-native:
    {{deno}} task build:native
