//! The run config's `mounts` and `root.readonly` (PROTOCOL.md §5): volumes (ext4 block devices), tmpfs, Docker's
//! copy-up into a new volume, and the read-only root.

use crate::archive::Attrs;
use crate::config::{Mount, RunConfig};
use crate::sys::{self, MS_BIND, MS_MOVE, MS_NODEV, MS_NOSUID, MS_RDONLY, MS_REMOUNT};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// Where a read-write volume is mounted first, to look at it (and copy the image's files in) before it hides the
/// target: on /dev, which is writable even when the root is read-only, and removed again.
const STAGE: &str = "/dev/.inferno-volume";
/// Symlinks followed while resolving one target, as the kernel's MAXSYMLINKS.
const MAX_LINKS: u32 = 40;

/// The mounts in the order they are made: fewer path components first, equal depths in list order (so `/data`
/// comes before `/data/cache`); with a read-only root, a tmpfs on /tmp (1777) unless the list has /tmp. (/run is
/// a tmpfs in every VM: rootfs.rs.)
pub fn plan(c: &RunConfig) -> Vec<Mount> {
    let mut all = c.mounts.clone();
    if c.readonly && !all.iter().any(|m| depth(m.target()) == 1 && m.target().trim_matches('/') == "tmp") {
        all.push(Mount::Tmpfs { target: "/tmp".into(), size_bytes: None, mode: Some(0o1777) });
    }
    all.sort_by_key(|m| depth(m.target())); // stable: equal depths keep their order
    all
}

fn depth(target: &str) -> usize {
    Path::new(target).components().filter(|c| matches!(c, Component::Normal(_))).count()
}

/// Mounts every entry of [`plan`] inside the current root (init has switched into the guest's root by now).
/// Returns O_PATH fds of the read-write volumes, for shutdown to remount them read-only (a clean journal).
pub fn mount_all(c: &RunConfig, log: &mut dyn FnMut(&str)) -> Result<Vec<i32>, String> {
    let mut rw_fds = Vec::new();
    for m in plan(c) {
        let fail = |step: &str, e: io::Error| format!("cannot mount {} at {}: {step}: {e}", m.kind(), m.target());
        let target = resolve_in(Path::new("/"), m.target()).map_err(|e| fail("resolve the target", e))?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&target)
            .map_err(|e| fail(&format!("create {}", target.display()), e))?;
        let t = target.to_string_lossy();
        match &m {
            Mount::Tmpfs { size_bytes, mode, .. } => {
                let mut data = format!("mode={:o}", mode.unwrap_or(0o1777));
                if let Some(s) = size_bytes {
                    data.push_str(&format!(",size={s}"));
                }
                sys::do_mount("tmpfs", &t, "tmpfs", MS_NOSUID | MS_NODEV, &data).map_err(|e| fail("mount", e))?;
            }
            Mount::Volume { device, readonly, .. } => {
                if !wait_for(device, Duration::from_secs(3)) {
                    let e = io::Error::from_raw_os_error(sys::ENOENT);
                    return Err(fail(&format!("find {device} (is the volume's drive attached?)"), e));
                }
                if *readonly {
                    sys::do_mount(device, &t, "ext4", MS_RDONLY, "")
                        .map_err(|e| fail(&format!("mount {device}"), e))?;
                } else {
                    let copied = mount_rw(device, &target).map_err(|(step, e)| fail(&step, e))?;
                    if copied > 0 {
                        log(&format!("copied {copied} entries of the image's {t} into the new volume {device}"));
                    }
                    let fd = sys::do_open(&t, sys::O_PATH | sys::O_DIRECTORY | sys::O_CLOEXEC, 0).unwrap_or(-1);
                    rw_fds.push(fd);
                }
            }
        }
    }
    Ok(rw_fds)
}

/// A read-write volume: mounted on [`STAGE`] first; if it is new (nothing but mke2fs's empty lost+found) it
/// loses the lost+found (a Docker volume starts empty: initdb and the like refuse a non-empty directory), and
/// gets a copy of what the image has at `target` with that directory's mode and owner (Docker's copy-up); then it
/// moves onto `target`. Returns how many entries were copied.
fn mount_rw(device: &str, target: &Path) -> Result<u64, (String, io::Error)> {
    let _ = fs::remove_dir(STAGE); // left over from a mount that failed half way: only ever an empty dir
    fs::DirBuilder::new().mode(0o700).create(STAGE).map_err(step("create the staging directory"))?;
    let staged = (|| {
        sys::do_mount(device, STAGE, "ext4", 0, "").map_err(|e| (format!("mount {device}"), e))?;
        let copied = (|| {
            let stage = Path::new(STAGE);
            if !is_new_volume(stage).map_err(step("read the volume"))? {
                return Ok(0);
            }
            let _ = fs::remove_dir(stage.join("lost+found"));
            let mut copied = 0;
            if let Ok(src) = fs::metadata(target) {
                copied = copy_tree(target, stage).map_err(step("copy the image's files into the new volume"))?;
                Attrs::of(&src).apply(stage, true).map_err(step("give the volume the directory's owner and mode"))?;
            }
            Ok(copied)
        })();
        match copied {
            Ok(n) => sys::do_mount(STAGE, &target.to_string_lossy(), "", MS_MOVE, "")
                .map(|_| n)
                .map_err(step("move the volume onto the target")),
            Err(e) => Err(e),
        }
        .inspect_err(|_| {
            let _ = sys::do_umount(STAGE, 0);
        })
    })();
    let _ = fs::remove_dir(STAGE);
    staged
}

/// Names the step of a mount that failed.
fn step(s: &'static str) -> impl Fn(io::Error) -> (String, io::Error) {
    move |e| (s.to_string(), e)
}

/// Nothing in it but an empty lost+found (or nothing at all).
fn is_new_volume(root: &Path) -> io::Result<bool> {
    for e in fs::read_dir(root)? {
        let e = e?;
        let empty_dir = e.file_type()?.is_dir() && fs::read_dir(e.path())?.next().is_none();
        if !(e.file_name() == "lost+found" && empty_dir) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Copies the tree under `src` into the directory `dst`: files, directories and symlinks with their modes, owners
/// and modification times (directories' times set after their contents). Device nodes, fifos and sockets are left
/// out and hard links become separate files. Returns the number of entries copied.
pub fn copy_tree(src: &Path, dst: &Path) -> io::Result<u64> {
    let mut n = 0;
    for e in fs::read_dir(src)? {
        let e = e?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let meta = fs::symlink_metadata(&from)?;
        let ft = meta.file_type();
        if ft.is_dir() {
            fs::create_dir(&to)?;
            n += copy_tree(&from, &to)?;
        } else if ft.is_symlink() {
            symlink(fs::read_link(&from)?, &to)?;
        } else if ft.is_file() {
            fs::copy(&from, &to)?;
        } else {
            continue;
        }
        Attrs::of(&meta).apply(&to, !ft.is_symlink())?;
        n += 1;
    }
    Ok(n)
}

/// `target` (absolute) as a path under `root`, with every symlink on the way resolved as if `root` were `/`:
/// an absolute link starts again at `root` and `..` stops at it, so nothing in the image leads out of it. The
/// components after the first missing one are taken as they are (they are created next).
pub fn resolve_in(root: &Path, target: &str) -> io::Result<PathBuf> {
    let mut pending: Vec<OsString> = parts(Path::new(target));
    pending.reverse(); // a stack: the next component last
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(c) = pending.pop() {
        if c == ".." {
            done.pop();
            continue;
        }
        let here: PathBuf =
            std::iter::once(root.as_os_str().to_owned()).chain(done.iter().cloned()).chain([c.clone()]).collect();
        match fs::symlink_metadata(&here) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(40)); // ELOOP
                }
                let link = fs::read_link(&here)?;
                if link.is_absolute() {
                    done.clear();
                }
                pending.extend(parts(&link).into_iter().rev());
            }
            _ => done.push(c),
        }
    }
    Ok(std::iter::once(root.as_os_str().to_owned()).chain(done).collect())
}

/// A path's names and `..`s, without `/` and `.`.
fn parts(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Docker's `--read-only`: the root mount becomes read-only (a bind remount, as runc does: only this mount's flag,
/// not the filesystem's), after /etc/hosts & co., the mounts and the working directory are in place.
pub fn make_root_readonly() -> Result<(), String> {
    sys::do_mount("none", "/", "", MS_REMOUNT | MS_BIND | MS_RDONLY, "")
        .map_err(|e| format!("cannot make the root read-only: {e}"))
}

fn wait_for(path: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while !Path::new(path).exists() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("inferno-mounts-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn targets(json: &str) -> Vec<String> {
        let c = config::parse(&format!(r#"{{"version":2,"vm_id":"a","process":{{"argv":["x"]}},{json}}}"#)).unwrap();
        plan(&c).iter().map(|m| m.target().to_string()).collect()
    }

    #[test]
    fn mounts_go_by_depth_then_list_order_and_a_read_only_root_gets_tmp() {
        let m = r#""mounts":[{"type":"tmpfs","target":"/data/cache"},{"type":"volume","device":"/dev/vdc","target":"/data/"},{"type":"tmpfs","target":"/b"},{"type":"tmpfs","target":"/a/./x"}]"#;
        assert_eq!(targets(m), vec!["/data/", "/b", "/data/cache", "/a/./x"]);
        assert_eq!(targets(&format!(r#"{m},"root":{{"readonly":true}}"#)).first().map(String::as_str), Some("/data/"));
        assert!(targets(&format!(r#"{m},"root":{{"readonly":true}}"#)).contains(&"/tmp".to_string()));
        assert!(!targets(m).contains(&"/tmp".to_string()));
        let own_tmp = r#""root":{"readonly":true},"mounts":[{"type":"tmpfs","target":"/tmp/","size_bytes":1024}]"#;
        assert_eq!(targets(own_tmp), vec!["/tmp/"]);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = temp("resolve");
        fs::create_dir_all(root.join("srv/real")).unwrap();
        symlink("/srv/real", root.join("abs")).unwrap(); // absolute: must not reach the host's /srv
        symlink("../../../../etc", root.join("srv/up")).unwrap(); // climbs past the root: stops at it
        symlink("loop", root.join("loop")).unwrap();
        symlink("gone/deeper", root.join("dangling")).unwrap();
        let r = |t: &str| resolve_in(&root, t).unwrap();
        assert_eq!(r("/abs/data"), root.join("srv/real/data"));
        assert_eq!(r("/srv/up/app"), root.join("etc/app"));
        assert_eq!(r("/../x/./y"), root.join("x/y"));
        assert_eq!(r("/dangling/v"), root.join("gone/deeper/v"));
        assert_eq!(resolve_in(&root, "/loop/x").unwrap_err().raw_os_error(), Some(40));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn copy_up_keeps_types_modes_owners_and_times() {
        let root = temp("copy");
        let (src, dst) = (root.join("src"), root.join("dst"));
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("sub/f"), "data").unwrap();
        fs::set_permissions(src.join("sub/f"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("sub/f", src.join("link")).unwrap();
        std::os::unix::fs::lchown(src.join("sub"), Some(1000), Some(50)).unwrap();
        sys::set_mtime_nofollow(&src.join("sub/f"), 1_000_000).unwrap();
        sys::set_mtime_nofollow(&src.join("sub"), 2_000_000).unwrap();
        fs::create_dir(&dst).unwrap();
        assert_eq!(copy_tree(&src, &dst).unwrap(), 3);
        assert_eq!(fs::read_to_string(dst.join("sub/f")).unwrap(), "data");
        let f = fs::metadata(dst.join("sub/f")).unwrap();
        assert_eq!((f.mode() & 0o7777, f.mtime()), (0o640, 1_000_000));
        let d = fs::metadata(dst.join("sub")).unwrap();
        assert_eq!((d.uid(), d.gid(), d.mtime()), (1000, 50, 2_000_000), "the dir's time is set after its contents");
        assert_eq!(fs::read_link(dst.join("link")).unwrap(), Path::new("sub/f"));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_volume_is_new_with_nothing_but_an_empty_lost_and_found() {
        let root = temp("new");
        assert!(is_new_volume(&root).unwrap());
        fs::create_dir(root.join("lost+found")).unwrap();
        assert!(is_new_volume(&root).unwrap());
        fs::write(root.join("lost+found/#12"), "").unwrap();
        assert!(!is_new_volume(&root).unwrap());
        fs::remove_file(root.join("lost+found/#12")).unwrap();
        fs::write(root.join("x"), "").unwrap();
        assert!(!is_new_volume(&root).unwrap());
        fs::remove_dir_all(&root).unwrap();
    }
}
