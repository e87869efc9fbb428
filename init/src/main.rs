//! inferno guest init (PID 1). See docs/PROTOCOL.md and src/run.rs.
fn main() {
    inferno_init::run::pid1()
}
