//! inferno's guest init: the pieces that are pure logic (and unit-tested) plus the system glue used by `main`.
pub mod archive;
pub mod builtin;
pub mod channel;
pub mod config;
pub mod frame;
pub mod json;
pub mod logbuf;
pub mod metrics;
pub mod netlink;
pub mod pathstat;
pub mod process;
pub mod rootfs;
pub mod run;
pub mod session;
pub mod spec;
pub mod sys;
pub mod top;
