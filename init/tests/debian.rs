//! A real distribution image: a debootstrap'd Debian rootfs (cached by tests/rootfs/debian.sh) as the image disk.
mod common;

use common::*;
use inferno_init::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn debian_rootfs() -> PathBuf {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rootfs/debian.sh");
    let out = Command::new(&script).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed (needs debootstrap and the Debian mirror):\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn debian_image_with_a_named_user() {
    let rootfs = debian_rootfs();
    let _g = vm_lock();
    let dir = work_dir("debian");
    let image = ImageBuilder::from_dir(&rootfs).build(&dir.join("image.ext4"), "512M");
    let before = sha256(&image);
    let rw = empty_ext4(&dir.join("rw.ext4"), "64M");
    let script = "id; echo HOME=$HOME; grep VERSION_CODENAME /etc/os-release; echo bash=${BASH_VERSION%%.*}; \
                  getent passwd nobody | cut -d: -f1,3; ls -d /dev/pts /dev/shm; echo hi > /tmp/t && cat /tmp/t";
    let cfg = RunConfig::new(&["/bin/bash", "-c", script])
        .process("user", json::string("nobody"))
        .process("workdir", json::string("/tmp"));
    let vm = Vm::start(&dir, VmOptions::new(cfg.to_json(), image.clone(), Some(rw)));
    let host = vm.host.clone();
    let out = vm.wait(Duration::from_secs(90));
    assert_eq!(out.code(), 0, "{}\nstderr: {}", out.console, host.lock().stream_text(2));
    assert_eq!(
        host.lock().stream_text(1),
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\nHOME=/nonexistent\nVERSION_CODENAME=bookworm\nbash=5\n\
         nobody:65534\n/dev/pts\n/dev/shm\nhi\n"
    );
    assert_eq!(sha256(&image), before);
}
