//! The run config's `mounts` and `root.readonly` (PROTOCOL.md §5) in real guests: volumes are ext4 image files
//! attached as extra drives (made with mke2fs here, as kiln's WritableDisk makes them), tmpfs, copy-up.
mod common;

use common::*;
use inferno_init::json::{self, Value};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn volume(device: &str, target: &str, readonly: bool) -> Value {
    json::obj(vec![
        ("type", json::string("volume")),
        ("device", json::string(device)),
        ("target", json::string(target)),
        ("readonly", Value::Bool(readonly)),
    ])
}

fn tmpfs(target: &str, size_bytes: Option<u64>, mode: Option<u32>) -> Value {
    json::obj(vec![
        ("type", json::string("tmpfs")),
        ("target", json::string(target)),
        ("size_bytes", size_bytes.map_or(Value::Null, json::num)),
        ("mode", mode.map_or(Value::Null, json::num)),
    ])
}

/// Boots `cfg` on `image` with the writable disk (if any) and the volumes, in order; returns the outcome and the
/// host side with the workload's output.
fn boot_with(
    dir: &Path,
    cfg: &RunConfig,
    image: &Path,
    rw: Option<PathBuf>,
    drives: &[(&Path, bool)],
) -> (Outcome, Arc<Host>) {
    let mut o = VmOptions::new(cfg.to_json(), image.to_path_buf(), rw);
    o.drives = drives.iter().map(|(p, ro)| (p.to_path_buf(), *ro)).collect();
    let vm = Vm::start(dir, o);
    let host = vm.host.clone();
    (vm.wait(Duration::from_secs(60)), host)
}

fn error_of(out: &Outcome) -> String {
    out.exit.get("error").and_then(Value::as_str).unwrap_or_default().to_string()
}

fn clean(img: &Path) -> bool {
    let out = std::process::Command::new("dumpe2fs").arg("-h").arg(img).output().unwrap();
    let hdr = String::from_utf8_lossy(&out.stdout);
    hdr.lines().any(|l| l.starts_with("Filesystem state:") && l.ends_with("clean")) && !hdr.contains("needs_recovery")
}

#[test]
fn a_volume_keeps_its_files_across_boots_and_a_read_only_one_refuses_writes() {
    let _g = vm_lock();
    let dir = work_dir("volume");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let vol = empty_ext4(&dir.join("vol.ext4"), "16M");
    // listed deeper first: /data must still be mounted before /data/cache, which lands inside the volume
    let cfg = RunConfig::sh(
        "echo kept > /data/f; ls -a /data; grep -E ' /data(/cache)? ' /proc/mounts | cut -d' ' -f1-3; \
         stat -c '%a %u' /data/cache",
    )
    .set("mounts", Value::Array(vec![tmpfs("/data/cache", None, Some(0o750)), volume("/dev/vdc", "/data", false)]));
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let (out, host) = boot_with(&dir, &cfg, &image, Some(rw.clone()), &[(&vol, false)]);
    assert_eq!(out.code(), 0, "{}\n{}", out.console, host.lock().stream_text(2));
    // a new volume starts empty as Docker's do: mke2fs's lost+found is gone; the tmpfs dir was created in it
    assert_eq!(host.lock().stream_text(1), ".\n..\ncache\nf\n/dev/vdc /data ext4\ntmpfs /data/cache tmpfs\n750 0\n");
    // shut down cleanly (remounted read-only): the host reads the file without a journal replay
    assert!(clean(&vol), "the volume's journal needs recovery after the guest's shutdown");
    assert_eq!(debugfs_cat(&vol, "/f"), "kept\n");

    // the next VM has no writable disk (the volume is /dev/vdb now) and mounts the volume read-only elsewhere
    let cfg =
        RunConfig::sh("cat /srv/f; ls /srv; echo x > /srv/g; echo rc=$?; grep ' /srv ' /proc/mounts | cut -d' ' -f4")
            .set("mounts", Value::Array(vec![volume("/dev/vdb", "/srv", true)]))
            .set("root", json::obj(vec![("writable_device", Value::Null)]));
    let (out, host) = boot_with(&dir, &cfg, &image, None, &[(&vol, false)]);
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    assert_eq!(g.stream_text(1), "kept\ncache\nf\nrc=1\nro,relatime\n");
    assert!(g.stream_text(2).contains("Read-only file system"), "{}", g.stream_text(2));
}

#[test]
fn a_new_volume_gets_a_copy_of_the_images_directory() {
    let _g = vm_lock();
    let dir = work_dir("copyup");
    let b = ImageBuilder::busybox(&dir)
        .file("srv/app/conf", "port=80\n", 0o640)
        .file("srv/app/sub/deep/x", "deep\n", 0o755)
        .file("srv/other/image-file", "from the image\n", 0o644);
    let app = b.dir().join("srv/app");
    symlink("conf", app.join("link")).unwrap();
    std::os::unix::fs::chown(app.join("conf"), Some(1000), Some(50)).unwrap();
    std::os::unix::fs::chown(&app, Some(1000), Some(1000)).unwrap();
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o750)).unwrap();
    let t = std::process::Command::new("touch").args(["-h", "-d", "@1000000000"]).arg(app.join("sub/deep/x")).status();
    assert!(t.unwrap().success());
    let image = b.build(&dir.join("image.ext4"), "16M");
    let fresh = empty_ext4(&dir.join("fresh.ext4"), "16M");
    // a volume with files of its own: never overwritten by the image's
    let own_dir = dir.join("own");
    std::fs::create_dir_all(&own_dir).unwrap();
    std::fs::write(own_dir.join("volume-file"), "mine\n").unwrap();
    let own = ImageBuilder::from_dir(&own_dir).build(&dir.join("own.ext4"), "16M");
    let script = "cd /srv/app && ls -A && stat -c '%n %a %u:%g' . conf sub/deep/x && readlink link && cat conf && \
                  stat -c %Y sub/deep/x && ls /srv/other";
    let cfg = RunConfig::sh(script).set(
        "mounts",
        Value::Array(vec![volume("/dev/vdc", "/srv/app", false), volume("/dev/vdd", "/srv/other", false)]),
    );
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let (out, host) = boot_with(&dir, &cfg, &image, Some(rw), &[(&fresh, false), (&own, false)]);
    assert_eq!(out.code(), 0, "{}\n{}", out.console, host.lock().stream_text(2));
    assert_eq!(
        host.lock().stream_text(1),
        "conf\nlink\nsub\n. 750 1000:1000\nconf 640 1000:50\nsub/deep/x 755 0:0\nconf\nport=80\n1000000000\n\
         lost+found\nvolume-file\n"
    );
    // the copy is on the volume itself, not in the VM's overlay
    assert_eq!(debugfs_cat(&fresh, "/sub/deep/x"), "deep\n");
}

#[test]
fn a_read_only_root_refuses_writes_while_tmp_and_a_tmpfs_work() {
    let _g = vm_lock();
    let dir = work_dir("readonly");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let script = "pwd; cat /etc/hostname; touch /x; echo root=$?; echo t > /tmp/t && cat /tmp/t; echo r > /run/r && cat /run/r; \
                  echo v > /data/v && cat /data/v; \
                  stat -c '%n %a' /tmp /run /cache; dd if=/dev/zero of=/cache/big bs=1024 count=2048; \
                  echo dd=$?; df -k /cache | tail -1 | tr -s ' ' | cut -d' ' -f2; grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1";
    let cfg = RunConfig::sh(script)
        .process("workdir", json::string("/new/dir")) // created before the root turns read-only
        .set("root", json::obj(vec![("writable_device", Value::Null), ("readonly", Value::Bool(true))]))
        .set(
            "mounts",
            Value::Array(vec![tmpfs("/cache", Some(1 << 20), Some(0o700)), volume("/dev/vdb", "/data", false)]),
        );
    // a read-write volume stays writable (the root's flag is its own mount's)
    let vol = empty_ext4(&dir.join("vol.ext4"), "16M");
    let (out, host) = boot_with(&dir, &cfg, &image, None, &[(&vol, false)]);
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    assert_eq!(
        g.stream_text(1),
        "/new/dir\ntestvm\nroot=1\nt\nr\nv\n/tmp 1777\n/run 755\n/cache 700\ndd=1\n1024\nro\n"
    );
    let err = g.stream_text(2);
    assert!(err.contains("Read-only file system") && err.contains("No space left on device"), "{err}");
}

#[test]
fn a_volume_that_cannot_be_mounted_ends_the_vm_with_125() {
    let _g = vm_lock();
    let dir = work_dir("badvolume");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let junk = dir.join("junk.img");
    std::fs::write(&junk, vec![0u8; 1 << 20]).unwrap(); // not an ext4 filesystem
    let cfg = RunConfig::sh("echo must-not-run")
        .set("root", json::obj(vec![("writable_device", Value::Null)]))
        .set("mounts", Value::Array(vec![volume("/dev/vdb", "/data", false)]));
    let (out, host) = boot_with(&dir, &cfg, &image, None, &[(&junk, false)]);
    assert_eq!(out.code(), 125, "{}", out.console);
    assert!(
        error_of(&out).starts_with("cannot mount volume at /data: mount /dev/vdb: Invalid argument"),
        "{}",
        error_of(&out)
    );
    assert!(!host.lock().stream_text(1).contains("must-not-run"));

    let cfg = RunConfig::sh("echo must-not-run")
        .set("root", json::obj(vec![("writable_device", Value::Null)]))
        .set("mounts", Value::Array(vec![volume("/dev/vdq", "/data", true)]));
    let (out, _) = boot_with(&dir, &cfg, &image, None, &[]);
    assert_eq!(out.code(), 125, "{}", out.console);
    assert_eq!(
        error_of(&out),
        "cannot mount volume at /data: find /dev/vdq (is the volume's drive attached?): No such file or directory (os error 2)"
    );
}
