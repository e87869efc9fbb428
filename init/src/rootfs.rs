//! Building the workload's root: read-only image disk + writable overlay, switch root, the usual mounts.

use crate::config::RunConfig;
use crate::sys::{self, MS_MOVE, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REMOUNT};
use std::fs;
use std::os::unix::fs::{symlink, DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

const IMAGE_MNT: &str = "/mnt/image";
const RW_MNT: &str = "/mnt/rw";
const NEW_ROOT: &str = "/mnt/root";

fn mkdir_p(p: &str, mode: u32) -> Result<(), String> {
    fs::DirBuilder::new().recursive(true).mode(mode).create(p).map_err(|e| format!("cannot create {p}: {e}"))
}

fn mount(src: &str, target: &str, fstype: &str, flags: u64, data: &str) -> Result<(), String> {
    sys::do_mount(src, target, fstype, flags, data).map_err(|e| format!("cannot mount {fstype} {src} on {target}: {e}"))
}

/// The first mounts, in the initramfs: /dev, /proc, /sys.
pub fn early_mounts() -> Result<(), String> {
    for (src, target, fstype, flags) in [
        ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID),
        ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC),
        ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC),
    ] {
        mkdir_p(target, 0o755)?;
        match sys::do_mount(src, target, fstype, flags, "") {
            Ok(()) => {}
            // the kernel may have mounted devtmpfs already
            Err(e) if e.raw_os_error() == Some(16) => {}
            Err(e) => return Err(format!("cannot mount {fstype} on {target}: {e}")),
        }
    }
    Ok(())
}

fn wait_for(path: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if Path::new(path).exists() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kept so that shutdown can remount the writable disk read-only after the switch hid it.
pub struct Root {
    pub rw_fd: i32,
    /// The read-write volumes' mounts (mounts.rs), remounted read-only at shutdown like the writable disk.
    pub volume_fds: Vec<i32>,
}

/// Mounts the image read-only, the overlay on top, moves /dev /proc /sys into it, frees the initramfs and
/// makes the overlay `/`.
pub fn build(c: &RunConfig, log: &mut dyn FnMut(&str)) -> Result<Root, String> {
    for d in [IMAGE_MNT, RW_MNT, NEW_ROOT] {
        mkdir_p(d, 0o755)?;
    }
    if !wait_for(&c.image_device, Duration::from_secs(3)) {
        return Err(format!("the image disk {} does not exist (is the VM's first drive attached?)", c.image_device));
    }
    mount(&c.image_device, IMAGE_MNT, "ext4", MS_RDONLY, "")
        .map_err(|e| format!("the image disk could not be mounted read-only: {e}"))?;
    match &c.writable_device {
        Some(dev) => {
            if !wait_for(dev, Duration::from_secs(3)) {
                return Err(format!("the writable disk {dev} does not exist (is the VM's second drive attached?)"));
            }
            mount(dev, RW_MNT, "ext4", 0, "").map_err(|e| format!("the writable disk could not be mounted: {e}"))?;
        }
        None => mount("tmpfs", RW_MNT, "tmpfs", 0, "mode=0755")?,
    }
    mkdir_p(&format!("{RW_MNT}/upper"), 0o755)?;
    mkdir_p(&format!("{RW_MNT}/work"), 0o755)?;
    mount(
        "overlay",
        NEW_ROOT,
        "overlay",
        0,
        &format!("lowerdir={IMAGE_MNT},upperdir={RW_MNT}/upper,workdir={RW_MNT}/work"),
    )?;
    let rw_fd = sys::do_open(RW_MNT, sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC, 0).unwrap_or(-1);
    for d in ["dev", "proc", "sys"] {
        let target = format!("{NEW_ROOT}/{d}");
        if !Path::new(&target).is_dir() {
            mkdir_p(&target, 0o755)?;
        }
        mount(&format!("/{d}"), &target, "", MS_MOVE, "")?;
    }
    // Free the initramfs (like switch_root): delete what lives on it, never crossing into other mounts.
    let freed = free_initramfs();
    log(&format!("switching root (freed {} KiB of initramfs)", freed / 1024));
    std::env::set_current_dir(NEW_ROOT).map_err(|e| format!("cannot enter the new root: {e}"))?;
    mount(".", "/", "", MS_MOVE, "")?;
    sys::do_chroot(".").map_err(|e| format!("chroot into the new root failed: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir / failed: {e}"))?;
    Ok(Root { rw_fd, volume_fds: Vec::new() })
}

fn free_initramfs() -> u64 {
    let Ok(root) = fs::symlink_metadata("/") else { return 0 };
    let dev = root.dev();
    fn walk(dir: &Path, dev: u64, freed: &mut u64) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(m) = fs::symlink_metadata(&p) else { continue };
            if m.dev() != dev {
                continue;
            }
            if m.is_dir() {
                walk(&p, dev, freed);
                let _ = fs::remove_dir(&p); // fails for mount points' parents: fine
            } else {
                *freed += m.size();
                let _ = fs::remove_file(&p);
            }
        }
    }
    let mut freed = 0;
    walk(Path::new("/"), dev, &mut freed);
    freed
}

fn filesystems() -> String {
    fs::read_to_string("/proc/filesystems").unwrap_or_default()
}

fn has_fs(all: &str, name: &str) -> bool {
    all.lines().any(|l| l.split_whitespace().last() == Some(name))
}

/// Inside the new root: the mounts and files a container expects. Missing kernel features are reported
/// through `log`, not fatal.
pub fn setup_inside(c: &RunConfig, log: &mut dyn FnMut(&str)) -> Result<(), String> {
    let fss = filesystems();
    mkdir_p("/dev/pts", 0o755)?;
    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")?;
    // /dev/ptmx must open this devpts instance (as runc sets it up): devtmpfs's own node is replaced by a link
    if !fs::symlink_metadata("/dev/ptmx").is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = fs::remove_file("/dev/ptmx");
        let _ = symlink("pts/ptmx", "/dev/ptmx");
    }
    // Docker's /dev/shm: 64 MiB (its --shm-size default), noexec
    mkdir_p("/dev/shm", 0o1777)?;
    mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k")?;
    if has_fs(&fss, "mqueue") {
        mkdir_p("/dev/mqueue", 0o755)?;
        mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, "")?;
    } else {
        log("the kernel has no POSIX message queues (CONFIG_POSIX_MQUEUE): /dev/mqueue is not mounted");
    }
    for (link, target) in [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
    ] {
        if fs::symlink_metadata(link).is_err() {
            let _ = symlink(target, link);
        }
    }
    if fs::symlink_metadata("/run").is_err() {
        mkdir_p("/run", 0o755)?;
    }
    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")?;
    if fs::symlink_metadata("/tmp").is_err() {
        mkdir_p("/tmp", 0o1777)?;
        let _ = fs::set_permissions("/tmp", fs::Permissions::from_mode(0o1777));
    }
    if has_fs(&fss, "cgroup2") {
        if let Err(e) = mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "") {
            log(&format!("cgroup2 not mounted: {e}"));
        }
    } else {
        log("the kernel has no cgroup2 filesystem: /sys/fs/cgroup is not mounted");
    }
    let nr_open =
        fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(1 << 20);
    if let Err(e) = sys::set_nofile(nr_open) {
        log(&format!("cannot raise RLIMIT_NOFILE to {nr_open}: {e}"));
    }
    if !c.hostname.is_empty() {
        sys::do_sethostname(&c.hostname).map_err(|e| format!("cannot set the hostname {:?}: {e}", c.hostname))?;
    }
    mkdir_p("/etc", 0o755)?;
    if !c.hostname.is_empty() {
        write_etc("/etc/hostname", &format!("{}\n", c.hostname))?;
    }
    write_etc("/etc/hosts", &hosts_file(c))?;
    if !c.nameservers.is_empty() {
        write_etc("/etc/resolv.conf", &resolv_conf(c))?;
    }
    Ok(())
}

fn write_etc(path: &str, text: &str) -> Result<(), String> {
    // A symlink (e.g. resolv.conf → ../run/…) is replaced by a file in the overlay, as Docker bind-mounts one.
    if fs::symlink_metadata(path).map(|m| m.file_type().is_symlink()).unwrap_or(false) {
        let _ = fs::remove_file(path);
    }
    fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
}

/// Docker's shape: localhost, then the hostname on the guest's address (127.0.1.1 without a network), then
/// the host's extra lines (`--add-host`).
pub fn hosts_file(c: &RunConfig) -> String {
    let mut s = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if !c.hostname.is_empty() {
        let ip = c.network.as_ref().map_or("127.0.1.1", |n| n.ip());
        s.push_str(&format!("{ip}\t{}\n", c.hostname));
    }
    for h in &c.hosts {
        s.push_str(h);
        s.push('\n');
    }
    s
}

pub fn resolv_conf(c: &RunConfig) -> String {
    let mut s = String::new();
    for n in &c.nameservers {
        s.push_str(&format!("nameserver {n}\n"));
    }
    if !c.search.is_empty() {
        s.push_str(&format!("search {}\n", c.search.join(" ")));
    }
    s
}

/// Shutdown: flush and make the disks consistent before the reboot.
pub fn finish(root: Option<&Root>, log: &mut dyn FnMut(&str)) {
    sys::do_sync();
    if let Err(e) = sys::do_mount("none", "/", "", MS_REMOUNT | MS_RDONLY, "") {
        log(&format!("remounting / read-only failed: {e}"));
    }
    if let Some(r) = root {
        for (fd, what) in r.volume_fds.iter().map(|&fd| (fd, "a volume")).chain([(r.rw_fd, "the writable disk")]) {
            if fd >= 0 {
                let path = format!("/proc/self/fd/{fd}");
                if let Err(e) = sys::do_mount("none", &path, "", MS_REMOUNT | MS_RDONLY, "") {
                    log(&format!("remounting {what} read-only failed: {e}"));
                }
            }
        }
    }
    sys::do_sync();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_resolv_conf() {
        let c = crate::config::parse(
            r#"{"version":2,"vm_id":"v","hostname":"web1","process":{"argv":["x"]},"dns":{"nameservers":["10.0.0.1","1.1.1.1"],"search":["a.b","c"]},"hosts":["10.0.0.9 db"]}"#,
        )
        .unwrap();
        let h = hosts_file(&c);
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.contains("127.0.1.1\tweb1\n"));
        assert!(h.ends_with("10.0.0.9 db\n"));
        assert_eq!(resolv_conf(&c), "nameserver 10.0.0.1\nnameserver 1.1.1.1\nsearch a.b c\n");
    }

    #[test]
    fn hosts_file_names_the_guest_address_with_a_network() {
        let head = r#"{"version":2,"vm_id":"0123456789abcdef","process":{"argv":["x"]},"hosts":["10.0.0.9 db"]"#;
        let none = crate::config::parse(&format!("{head}}}")).unwrap();
        assert_eq!(
            hosts_file(&none),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t0123456789ab\n10.0.0.9 db\n"
        );
        let net = crate::config::parse(&format!(
            r#"{head},"network":{{"mac":"02:42:ac:1e:00:02","address":"172.30.0.6/30","gateway":"172.30.0.5"}}}}"#
        ))
        .unwrap();
        assert_eq!(
            hosts_file(&net),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.30.0.6\t0123456789ab\n10.0.0.9 db\n"
        );
    }

    #[test]
    fn filesystem_list_parsing() {
        let fss = "nodev\tsysfs\nnodev\tcgroup2\n\text4\n";
        assert!(has_fs(fss, "cgroup2"));
        assert!(has_fs(fss, "ext4"));
        assert!(!has_fs(fss, "mqueue"));
    }
}
