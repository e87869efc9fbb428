//! Docker's path stat (`X-Docker-Container-Path-Stat`, PROTOCOL.md §10 `stat`): what `cp` asks about a path in
//! the guest before copying, to decide where the copy lands.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use crate::archive;
use crate::json::{num, obj, string};

// Go's os.FileMode bits (the JSON's `mode` is one, as Docker sends it)
const MODE_DIR: u64 = 1 << 31;
const MODE_SYMLINK: u64 = 1 << 27;
const MODE_DEVICE: u64 = 1 << 26;
const MODE_NAMED_PIPE: u64 = 1 << 25;
const MODE_SOCKET: u64 = 1 << 24;
const MODE_SETUID: u64 = 1 << 23;
const MODE_SETGID: u64 = 1 << 22;
const MODE_CHAR_DEVICE: u64 = 1 << 21;
const MODE_STICKY: u64 = 1 << 20;

/// `{"name","size","mode","mtime","linkTarget"}` of `path`, not following a final symlink; `linkTarget` is the
/// symlink's fully resolved absolute path (as Docker's daemon gives it), else "". Err names a missing path.
pub fn stat_json(path: &str) -> Result<String, String> {
    let m = fs::symlink_metadata(path).map_err(|e| archive::path_error(path, &e))?;
    let link_target = if m.file_type().is_symlink() { resolve(Path::new(path)) } else { String::new() };
    let name = String::from_utf8_lossy(&archive::base_name(path)).into_owned();
    let name = if name == "." && path.starts_with('/') { "/".to_string() } else { name };
    Ok(obj(vec![
        ("name", string(name)),
        ("size", num(m.size())),
        ("mode", num(go_file_mode(&m))),
        ("mtime", string(rfc3339_nano(m.mtime(), m.mtime_nsec()))),
        ("linkTarget", string(link_target)),
    ])
    .to_json())
}

/// Go's `os.FileMode` of a file's lstat: permission bits plus the type and special bits.
pub fn go_file_mode(m: &fs::Metadata) -> u64 {
    let ft = m.file_type();
    let raw = m.mode();
    let mut mode = u64::from(raw & 0o777);
    if ft.is_dir() {
        mode |= MODE_DIR;
    } else if ft.is_symlink() {
        mode |= MODE_SYMLINK;
    } else if ft.is_block_device() {
        mode |= MODE_DEVICE;
    } else if ft.is_char_device() {
        mode |= MODE_DEVICE | MODE_CHAR_DEVICE;
    } else if ft.is_fifo() {
        mode |= MODE_NAMED_PIPE;
    } else if ft.is_socket() {
        mode |= MODE_SOCKET;
    }
    for (bit, go) in [(0o4000, MODE_SETUID), (0o2000, MODE_SETGID), (0o1000, MODE_STICKY)] {
        if raw & bit != 0 {
            mode |= go;
        }
    }
    mode
}

/// A symlink's target with every symlink resolved, absolute; for a dangling one, its text made absolute.
fn resolve(path: &Path) -> String {
    if let Ok(p) = fs::canonicalize(path) {
        return p.display().to_string();
    }
    let target = fs::read_link(path).unwrap_or_default();
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    let mut out = PathBuf::from("/");
    for c in base.join(target).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(c) => out.push(c),
            _ => {}
        }
    }
    out.display().to_string()
}

/// A UTC calendar time from seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub fn from_unix(secs: i64) -> Utc {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        // Howard Hinnant's civil_from_days
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc { year, month, day, hour: rem / 3600, minute: rem / 60 % 60, second: rem % 60 }
    }
}

/// Go's time.RFC3339Nano in UTC, as Docker's JSON writes a time: the fraction without trailing zeros.
pub fn rfc3339_nano(secs: i64, nanos: i64) -> String {
    let t = Utc::from_unix(secs);
    let mut s = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour, t.minute, t.second);
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tests::TempDir;
    use crate::json;
    use crate::sys;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn stat(path: &Path) -> json::Value {
        json::parse(&stat_json(path.to_str().unwrap()).unwrap()).unwrap()
    }

    fn fields(v: &json::Value) -> (String, u64, u64, String, String) {
        let s = |k| v.get(k).unwrap().as_str().unwrap().to_string();
        let n = |k| v.get(k).unwrap().as_u64().unwrap();
        (s("name"), n("size"), n("mode"), s("mtime"), s("linkTarget"))
    }

    #[test]
    fn describes_files_directories_and_symlinks_as_docker_does() {
        let t = TempDir::new("pathstat");
        let f = t.path("file.txt");
        fs::write(&f, "hello").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o4750)).unwrap();
        sys::set_mtime_nofollow(&f, 1_700_000_000).unwrap();
        assert_eq!(
            fields(&stat(&f)),
            ("file.txt".into(), 5, MODE_SETUID | 0o750, "2023-11-14T22:13:20Z".into(), String::new())
        );

        let d = t.path("data");
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o3755)).unwrap();
        let (name, _, mode, _, link) = fields(&stat(Path::new(&format!("{}/", d.display()))));
        assert_eq!((name.as_str(), mode, link.as_str()), ("data", MODE_DIR | MODE_SETGID | MODE_STICKY | 0o755, ""));
        // the example of PROTOCOL.md §10: a 0755 directory
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(fields(&stat(&d)).2, 2_147_484_141);

        // a symlink is described itself, its target fully resolved (here through a second link)
        symlink("data", t.path("hop")).unwrap();
        symlink("hop", t.path("link")).unwrap();
        let real = fs::canonicalize(&d).unwrap().display().to_string();
        assert_eq!(
            fields(&stat(&t.path("link"))),
            ("link".into(), 3, MODE_SYMLINK | 0o777, fields(&stat(&t.path("link"))).3, real)
        );
        symlink("../gone/x", t.path("dangling")).unwrap();
        let expected = fs::canonicalize(&t.0).unwrap().parent().unwrap().join("gone/x").display().to_string();
        assert_eq!(fields(&stat(&t.path("dangling"))).4, expected);

        assert_eq!(fields(&stat(Path::new("/dev/null"))).2, MODE_DEVICE | MODE_CHAR_DEVICE | 0o666);
        assert_eq!(fields(&stat(Path::new("/"))).0, "/");
    }

    #[test]
    fn a_missing_path_is_an_error_naming_it() {
        assert_eq!(stat_json("/no/such/thing").unwrap_err(), "/no/such/thing: no such file or directory");
        assert_eq!(stat_json("/etc/passwd/x").unwrap_err(), "/etc/passwd/x: no such file or directory");
    }

    #[test]
    fn utc_calendar_and_rfc3339() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_164_800, "2024-02-29T00:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (1_796_384_400, "2026-12-04T11:40:00Z"),
        ];
        for (secs, text) in cases {
            assert_eq!(rfc3339_nano(secs, 0), text, "{secs}");
        }
        // and against GNU date over a spread of days (leap years, century rules, far future)
        let secs: Vec<i64> = (0..40).map(|i| -2_208_988_800 + i * 197_912_345_677 / 10).collect();
        let args: Vec<String> = secs.iter().map(|s| format!("@{s}")).collect();
        for (s, arg) in secs.iter().zip(&args) {
            let out =
                std::process::Command::new("date").args(["-u", "-d", arg, "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
            assert_eq!(rfc3339_nano(*s, 0), String::from_utf8(out.stdout).unwrap().trim(), "{s}");
        }
        assert_eq!(rfc3339_nano(0, 120_000_000), "1970-01-01T00:00:00.12Z");
        assert_eq!(rfc3339_nano(0, 5), "1970-01-01T00:00:00.000000005Z");
    }
}
