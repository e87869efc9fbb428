//! Tar archives for `cp` (PROTOCOL.md §10 `archive-get` / `archive-put`): a POSIX ustar writer with pax records
//! for what ustar cannot hold, and a reader (ustar, pax, GNU long names) that unpacks under one directory and
//! refuses anything that would land outside it. Both stream: memory stays bounded whatever the archive's size.
//!
//! Regular files, directories and symlinks are archived; hard links are stored as regular files. FIFOs, devices
//! and sockets are skipped when writing, and ignored when unpacking (what `docker cp` of a plain tree needs;
//! creating device nodes from a host-supplied archive is not something `cp` should do).

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::sys;

const BLOCK: usize = 512;
/// The size of the reads and writes either side makes (and of each one's buffer).
const IO_BUFFER: usize = 64 * 1024;
/// Pax and GNU long-name data is held in memory: bounded, so that a hostile archive cannot exhaust it.
const MAX_META: u64 = 1 << 20;
/// The largest value of an 11-digit octal field (size, mtime) and of a 7-digit one (uid, gid).
const MAX_OCTAL_11: u64 = 0o77777777777;
const MAX_OCTAL_7: u64 = 0o7777777;
/// The name of the pax header entries this writer emits (readers that know pax never create it).
const PAX_NAME: &[u8] = b"././@PaxHeader";

/// The error for a path that is not there, as PROTOCOL.md §10 words it; other errors keep the system's text.
pub fn path_error(path: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => format!("{path}: no such file or directory"),
        _ => format!("{path}: {e}"),
    }
}

/// The name an entry for `path` gets: its last component (`/srv/data/` -> `data`); `.` for the root.
pub fn base_name(path: &str) -> Vec<u8> {
    let p = Path::new(path);
    let name = p
        .file_name()
        .map(|n| n.to_os_string())
        .or_else(|| fs::canonicalize(p).ok()?.file_name().map(|n| n.to_os_string()));
    name.map(|n| n.into_vec()).unwrap_or_else(|| b".".to_vec())
}

// ---------------------------------------------------------------------------------------------------------- writer

/// Writes a tar of `path` to `out`: one entry named after its last component, then (for a directory) everything
/// under it, depth-first in byte order of the names; symlinks are never followed, not even `path` itself.
pub fn write_archive(path: &str, out: &mut dyn Write) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| path_error(path, &e))?;
    // 512-byte headers and padding: buffered, so a pipe or socket sees few large writes
    let mut buffered = io::BufWriter::with_capacity(IO_BUFFER, out);
    let mut w = Writer { out: &mut buffered };
    w.entry(Path::new(path), base_name(path), &meta)?;
    w.put(&[0u8; 2 * BLOCK])?;
    w.out.flush().map_err(write_error)
}

fn write_error(e: io::Error) -> String {
    format!("writing the archive: {e}")
}

struct Writer<'a> {
    out: &'a mut dyn Write,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) -> Result<(), String> {
        self.out.write_all(b).map_err(write_error)
    }

    fn pad(&mut self, size: u64) -> Result<(), String> {
        let rem = (size % BLOCK as u64) as usize;
        if rem != 0 {
            self.put(&[0u8; BLOCK][..BLOCK - rem])?;
        }
        Ok(())
    }

    fn entry(&mut self, fs_path: &Path, mut name: Vec<u8>, meta: &fs::Metadata) -> Result<(), String> {
        let ft = meta.file_type();
        let shown = fs_path.display();
        if ft.is_symlink() {
            let target = fs::read_link(fs_path).map_err(|e| format!("{shown}: {e}"))?;
            return self.header(&name, Some(target.as_os_str().as_bytes()), b'2', Attrs::of(meta), 0);
        }
        if ft.is_file() {
            let size = meta.len();
            // O_NOFOLLOW: a file swapped for a symlink since the lstat is not read through
            let file = fs::OpenOptions::new().read(true).custom_flags(sys::O_NOFOLLOW).open(fs_path);
            let file = match file {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()), // removed meanwhile
                Err(e) => return Err(format!("{shown}: {e}")),
            };
            self.header(&name, None, b'0', Attrs::of(meta), size)?;
            // exactly `size` bytes whatever the file does meanwhile: cut when it grew, zeros when it shrank
            let copied = io::copy(&mut file.take(size), self.out).map_err(|e| format!("{shown}: {e}"))?;
            let mut missing = size - copied;
            while missing > 0 {
                let n = missing.min(BLOCK as u64) as usize;
                self.put(&[0u8; BLOCK][..n])?;
                missing -= n as u64;
            }
            return self.pad(size);
        }
        if !ft.is_dir() {
            return Ok(()); // FIFO, device or socket: skipped (module comment)
        }
        if !name.ends_with(b"/") {
            name.push(b'/');
        }
        self.header(&name, None, b'5', Attrs::of(meta), 0)?;
        // /proc and /sys are mounted in the guest but are no files of the container: their mount points stay
        // empty directories, as in `docker cp` of the image's root (and /proc/kcore is no file to copy)
        if matches!(sys::fs_type(fs_path), Ok(sys::PROC_SUPER_MAGIC | sys::SYSFS_MAGIC)) {
            return Ok(());
        }
        let mut children: Vec<Vec<u8>> = fs::read_dir(fs_path)
            .map_err(|e| format!("{shown}: {e}"))?
            .map(|d| d.map(|d| d.file_name().into_vec()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{shown}: {e}"))?;
        children.sort();
        for child in children {
            let child_path = fs_path.join(std::ffi::OsStr::from_bytes(&child));
            let child_meta = match fs::symlink_metadata(&child_path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
                Err(e) => return Err(format!("{}: {e}", child_path.display())),
            };
            let mut child_name = name.clone();
            child_name.extend_from_slice(&child);
            self.entry(&child_path, child_name, &child_meta)?;
        }
        Ok(())
    }

    /// One ustar header, preceded by a pax header when the name, link target, size, uid or gid does not fit.
    fn header(&mut self, name: &[u8], link: Option<&[u8]>, kind: u8, a: Attrs, size: u64) -> Result<(), String> {
        let mut pax: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut h = [0u8; BLOCK];
        match split_ustar_name(name) {
            Some((prefix, rest)) => {
                h[345..345 + prefix.len()].copy_from_slice(prefix);
                h[..rest.len()].copy_from_slice(rest);
            }
            None => {
                pax.push(("path", name.to_vec()));
                h[..100].copy_from_slice(&name[..100]);
            }
        }
        if let Some(link) = link {
            if link.len() > 100 {
                pax.push(("linkpath", link.to_vec()));
            }
            let n = link.len().min(100);
            h[157..157 + n].copy_from_slice(&link[..n]);
        }
        octal(&mut h[100..108], u64::from(a.mode & 0o7777));
        for (range, id, key) in [(108..116, a.uid, "uid"), (116..124, a.gid, "gid")] {
            if u64::from(id) > MAX_OCTAL_7 {
                pax.push((key, id.to_string().into_bytes()));
            }
            octal(&mut h[range], u64::from(id).min(MAX_OCTAL_7));
        }
        if size > MAX_OCTAL_11 {
            pax.push(("size", size.to_string().into_bytes()));
        }
        octal(&mut h[124..136], size.min(MAX_OCTAL_11));
        octal(&mut h[136..148], a.mtime.clamp(0, MAX_OCTAL_11 as i64) as u64);
        h[156] = kind;
        if !pax.is_empty() {
            let data = pax_records(&pax);
            let mut ph = [0u8; BLOCK];
            ph[..PAX_NAME.len()].copy_from_slice(PAX_NAME);
            octal(&mut ph[100..108], 0o644);
            octal(&mut ph[108..116], 0);
            octal(&mut ph[116..124], 0);
            octal(&mut ph[124..136], data.len() as u64);
            octal(&mut ph[136..148], a.mtime.clamp(0, MAX_OCTAL_11 as i64) as u64);
            ph[156] = b'x';
            finish_header(&mut ph);
            self.put(&ph)?;
            self.put(&data)?;
            self.pad(data.len() as u64)?;
        }
        finish_header(&mut h);
        self.put(&h)
    }
}

/// ustar's name split: the whole name when it fits 100 bytes, else a prefix (≤155) and a name (≤100) cut at a `/`.
fn split_ustar_name(name: &[u8]) -> Option<(&[u8], &[u8])> {
    if name.len() <= 100 {
        return Some((&[], name));
    }
    // the first `/` that leaves a non-empty name of at most 100 bytes and a prefix of at most 155
    (0..name.len())
        .filter(|&i| name[i] == b'/' && i <= 155 && name.len() - i - 1 <= 100 && name.len() - i - 1 > 0)
        .map(|i| (&name[..i], &name[i + 1..]))
        .next()
}

/// An octal number NUL-terminated in its field (the field is wide enough: callers clamp).
fn octal(field: &mut [u8], v: u64) {
    let digits = format!("{:0width$o}", v, width = field.len() - 1);
    field[..digits.len()].copy_from_slice(digits.as_bytes());
    field[digits.len()] = 0;
}

/// The ustar magic and version, then the checksum (computed with the checksum field as spaces).
fn finish_header(h: &mut [u8; BLOCK]) {
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    octal(&mut h[148..155], u64::from(sum));
    h[155] = b' ';
}

/// pax records: `<length> <key>=<value>\n`, where the length counts the whole record, its own digits included.
fn pax_records(records: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = rest + 1;
        while (rest + len.to_string().len()) != len {
            len = rest + len.to_string().len();
        }
        out.extend_from_slice(format!("{len} {key}=").as_bytes());
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------------------- reader

/// Unpacks the tar read from `input` under the existing directory `dir`: names are relative to it (a leading `/`
/// or `./` is dropped); a `..` component, a path through a symlink or a hard link to outside `dir` is refused with
/// an Err, as is a truncated or corrupt archive (entries before the bad one stay unpacked). Files are replaced,
/// directories merged; mode, owner and mtime are applied (directories' once everything under them is written).
pub fn extract_archive(input: &mut dyn Read, dir: &str) -> Result<(), String> {
    let root = Path::new(dir);
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        _ => return Err(format!("{dir}: no such directory")),
    }
    let mut r = Input { r: io::BufReader::with_capacity(IO_BUFFER, input), offset: 0 };
    let mut dirs: Vec<(PathBuf, Attrs)> = Vec::new();
    let mut dir_index: HashMap<PathBuf, usize> = HashMap::new();
    let mut pax = Pax::default();
    let (mut long_name, mut long_link): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    loop {
        let at = r.offset;
        let Some(block) = r.block()? else {
            return Err(format!("the archive is truncated: it ends at byte {at} without its end marker"));
        };
        if block.iter().all(|&b| b == 0) {
            // the end marker: two zero blocks (one followed by the end of input is accepted, as GNU tar does)
            r.drain()?;
            break;
        }
        let h = Header::parse(&block).map_err(|e| format!("not a tar archive (header at byte {at}): {e}"))?;
        let size = pax.size.unwrap_or(h.size);
        match h.kind {
            b'x' => {
                pax = Pax::parse(&r.meta(h.size, "a pax header")?)?;
                continue;
            }
            b'g' => {
                r.skip(h.size, "a pax global header")?; // global records: nothing unpacked here depends on them
                continue;
            }
            b'L' => {
                long_name = Some(until_nul(r.meta(h.size, "a GNU long name")?));
                continue;
            }
            b'K' => {
                long_link = Some(until_nul(r.meta(h.size, "a GNU long link name")?));
                continue;
            }
            _ => {}
        }
        let name = pax.path.take().or(long_name.take()).unwrap_or(h.name);
        let link = pax.linkpath.take().or(long_link.take()).unwrap_or(h.link);
        let attrs = Attrs {
            mode: h.mode,
            uid: pax.uid.unwrap_or(h.uid),
            gid: pax.gid.unwrap_or(h.gid),
            mtime: pax.mtime.unwrap_or(h.mtime),
        };
        pax = Pax::default();
        let shown = String::from_utf8_lossy(&name).into_owned();
        let rel = relative(&name).map_err(|e| format!("{shown}: {e}"))?;
        let is_dir = matches!(h.kind, b'5' | b'D') || (matches!(h.kind, b'0' | 0) && name.ends_with(b"/"));
        if rel.as_os_str().is_empty() {
            if is_dir {
                r.skip(size, &shown)?; // `./`: the destination itself, left as it is
                continue;
            }
            return Err(format!("{shown:?}: an entry without a name"));
        }
        let target = parent_inside(root, &rel, true).map_err(|e| format!("{shown}: {e}"))?;
        let fail = |e: io::Error| format!("{shown}: {e}");
        if is_dir {
            clear(&target, true).map_err(fail)?;
            if let Err(e) = fs::create_dir(&target) {
                if e.kind() != io::ErrorKind::AlreadyExists {
                    return Err(fail(e));
                }
            }
            r.skip(size, &shown)?;
            match dir_index.get(&rel) {
                Some(&i) => dirs[i].1 = attrs,
                None => {
                    dir_index.insert(rel.clone(), dirs.len());
                    dirs.push((rel, attrs));
                }
            }
            continue;
        }
        match h.kind {
            b'2' => {
                clear(&target, false).map_err(fail)?;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&link), &target).map_err(fail)?;
                attrs.apply(&target, false).map_err(fail)?;
                r.skip(size, &shown)?;
            }
            b'1' => {
                let link_rel =
                    relative(&link).map_err(|e| format!("{shown}: link to {}: {e}", String::from_utf8_lossy(&link)))?;
                if link_rel == rel || link_rel.as_os_str().is_empty() {
                    return Err(format!("{shown}: a hard link to itself"));
                }
                let source = parent_inside(root, &link_rel, false)
                    .map_err(|e| format!("{shown}: link to {}: {e}", link_rel.display()))?;
                clear(&target, false).map_err(fail)?;
                fs::hard_link(&source, &target).map_err(|e| format!("{shown}: link to {}: {e}", link_rel.display()))?;
                r.skip(size, &shown)?;
            }
            b'3' | b'4' | b'6' | b'V' => r.skip(size, &shown)?, // device, FIFO, volume label: ignored
            b'S' => return Err(format!("{shown}: GNU sparse files are not supported; archive it without --sparse")),
            _ => {
                // a regular file ('0', '\0', '7' and, as POSIX asks, any unknown type)
                clear(&target, false).map_err(fail)?;
                let mut file =
                    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&target).map_err(fail)?;
                if let Err(e) = r.copy(size, &mut file, &shown) {
                    let _ = fs::remove_file(&target); // no half file left behind
                    return Err(e);
                }
                drop(file);
                r.skip_padding(size, &shown)?;
                attrs.apply(&target, true).map_err(fail)?;
            }
        }
    }
    // last, so that writing into a directory does not move its mtime again (and a read-only one gets filled)
    for (rel, attrs) in dirs.iter().rev() {
        let shown = rel.display();
        // re-checked: a later entry may have replaced this directory (or a parent) with a symlink
        // (then it is left alone: what replaced it got its own attributes)
        let Ok(path) = parent_inside(root, rel, false) else { continue };
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            attrs.apply(&path, true).map_err(|e| format!("{shown}: {e}"))?;
        }
    }
    Ok(())
}

/// What a copy keeps of a file besides its data (cp's extraction here, a volume's copy-up in mounts.rs).
#[derive(Clone, Copy)]
pub(crate) struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
}

impl Attrs {
    pub(crate) fn of(m: &fs::Metadata) -> Attrs {
        Attrs { mode: m.mode() & 0o7777, uid: m.uid(), gid: m.gid(), mtime: m.mtime() }
    }

    /// Owner, then mode (chown clears setuid/setgid), then times; never through a final symlink.
    pub(crate) fn apply(&self, path: &Path, chmod: bool) -> io::Result<()> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))?;
        if chmod {
            fs::set_permissions(path, fs::Permissions::from_mode(self.mode & 0o7777))?;
        }
        sys::set_mtime_nofollow(path, self.mtime)
    }
}

/// An entry's name as a relative path: a leading `/` and `.` components dropped, `..` refused.
fn relative(name: &[u8]) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for c in Path::new(std::ffi::OsStr::from_bytes(name)).components() {
        match c {
            Component::Normal(c) => out.push(c),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => return Err("a name with a `..` component is refused".to_string()),
            Component::Prefix(_) => unreachable!("no path prefixes on unix"),
        }
    }
    Ok(out)
}

/// `root/rel`, after checking with lstat that no component before the last is a symlink or a non-directory;
/// missing ones are created (0755) when `create`, else an error.
fn parent_inside(root: &Path, rel: &Path, create: bool) -> io::Result<PathBuf> {
    let mut cur = root.to_path_buf();
    let mut parts = rel.components().peekable();
    while let Some(c) = parts.next() {
        cur.push(c);
        if parts.peek().is_none() {
            break;
        }
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(io::Error::other(format!("refusing to pass through the symlink {}", shown_rel(root, &cur))))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(io::Error::other(format!("{} is not a directory", shown_rel(root, &cur)))),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => fs::create_dir(&cur)?,
            Err(e) => return Err(e),
        }
    }
    Ok(cur)
}

fn shown_rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Makes room for a new entry at `path`: whatever is there goes, except a directory that a directory entry merges
/// into. Never writes through what was there (an existing symlink or hard link is removed, not opened).
fn clear(path: &Path, keep_dir: bool) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => {
            if keep_dir {
                Ok(())
            } else {
                fs::remove_dir_all(path)
            }
        }
        Ok(_) => fs::remove_file(path),
    }
}

fn until_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(i) = v.iter().position(|&b| b == 0) {
        v.truncate(i);
    }
    v
}

/// One ustar (or GNU, or v7) header, checksum verified.
struct Header {
    name: Vec<u8>,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: i64,
    kind: u8,
    link: Vec<u8>,
}

impl Header {
    fn parse(b: &[u8; BLOCK]) -> Result<Header, String> {
        let stored = number(&b[148..156])?;
        let unsigned: i64 =
            b.iter().enumerate().map(|(i, &x)| if (148..156).contains(&i) { 32 } else { i64::from(x) }).sum();
        let signed: i64 =
            b.iter().enumerate().map(|(i, &x)| if (148..156).contains(&i) { 32 } else { i64::from(x as i8) }).sum();
        if stored != unsigned && stored != signed {
            return Err("the header checksum does not match".to_string());
        }
        let field = |r: std::ops::Range<usize>| until_nul(b[r].to_vec());
        let mut name = field(0..100);
        // POSIX ustar keeps a prefix at 345; GNU's "ustar  " magic keeps other fields there
        if &b[257..263] == b"ustar\0" {
            let prefix = field(345..500);
            if !prefix.is_empty() {
                let mut full = prefix;
                full.push(b'/');
                full.extend_from_slice(&name);
                name = full;
            }
        }
        let id = |r: std::ops::Range<usize>| -> Result<u32, String> {
            u32::try_from(number(&b[r])?).map_err(|_| "a uid/gid out of range".to_string())
        };
        Ok(Header {
            name,
            mode: (number(&b[100..108])? & 0o7777) as u32,
            uid: id(108..116)?,
            gid: id(116..124)?,
            size: u64::try_from(number(&b[124..136])?).map_err(|_| "a negative size".to_string())?,
            mtime: number(&b[136..148])?,
            kind: b[156],
            link: field(157..257),
        })
    }
}

/// A numeric header field: octal text (spaces and NULs around it), or GNU's base-256 (high bit of the first byte).
fn number(f: &[u8]) -> Result<i64, String> {
    if f[0] & 0x80 != 0 {
        // big-endian two's complement over the whole field, the marker bit cleared for a positive number
        let mut v: i128 = 0;
        for (i, &b) in f.iter().enumerate() {
            v = (v << 8) | i128::from(if i == 0 && f[0] != 0xff { b & 0x7f } else { b });
        }
        if f[0] == 0xff {
            v -= 1i128 << (8 * f.len());
        }
        return i64::try_from(v).map_err(|_| "a base-256 number out of range".to_string());
    }
    let text = f.iter().skip_while(|&&b| b == b' ' || b == 0).take_while(|&&b| b != b' ' && b != 0);
    let mut v: i64 = 0;
    for &b in text {
        if !(b'0'..=b'7').contains(&b) {
            return Err(format!("{:?} is not an octal number", String::from_utf8_lossy(f)));
        }
        v = v.checked_mul(8).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or("an octal number out of range")?;
    }
    Ok(v)
}

/// The pax records that matter here (for the next entry); others (atime, uname, xattrs…) are ignored.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u32>,
    gid: Option<u32>,
    mtime: Option<i64>,
}

impl Pax {
    fn parse(data: &[u8]) -> Result<Pax, String> {
        let bad = |why: &str| format!("a malformed pax header: {why}");
        let mut pax = Pax::default();
        let mut rest = data;
        while !rest.is_empty() && rest[0] != 0 {
            let sp = rest.iter().position(|&b| b == b' ').ok_or_else(|| bad("a record without a length"))?;
            let len: usize = std::str::from_utf8(&rest[..sp])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("a bad record length"))?;
            if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
                return Err(bad("a record length that does not match"));
            }
            let record = &rest[sp + 1..len - 1];
            rest = &rest[len..];
            let eq = record.iter().position(|&b| b == b'=').ok_or_else(|| bad("a record without '='"))?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            let text = || std::str::from_utf8(value).map_err(|_| bad("a number that is not text"));
            // an empty value removes the record's effect
            let parse_num = |what: &str| -> Result<Option<i64>, String> {
                if value.is_empty() {
                    return Ok(None);
                }
                let t = text()?;
                let whole = t.split('.').next().unwrap_or("");
                whole.parse::<i64>().map(Some).map_err(|_| bad(&format!("{what} {t:?}")))
            };
            let nonneg = |v: Option<i64>, what: &str| v.map(|v| u64::try_from(v).map_err(|_| bad(what))).transpose();
            match key {
                b"path" => pax.path = (!value.is_empty()).then(|| value.to_vec()),
                b"linkpath" => pax.linkpath = (!value.is_empty()).then(|| value.to_vec()),
                b"size" => pax.size = nonneg(parse_num("size")?, "a negative size")?,
                b"uid" => pax.uid = nonneg(parse_num("uid")?, "a negative uid")?.map(|v| v as u32),
                b"gid" => pax.gid = nonneg(parse_num("gid")?, "a negative gid")?.map(|v| v as u32),
                b"mtime" => pax.mtime = parse_num("mtime")?,
                _ => {}
            }
        }
        Ok(pax)
    }
}

/// The input, counted in bytes for the error messages.
struct Input<'a> {
    r: io::BufReader<&'a mut dyn Read>,
    offset: u64,
}

impl Input<'_> {
    /// Fills `buf` as far as the input goes; returns how much was read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        let mut n = 0;
        while n < buf.len() {
            match self.r.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading the archive: {e}")),
            }
        }
        self.offset += n as u64;
        Ok(n)
    }

    /// The next block; None at the end of input; Err when the input ends inside the block.
    fn block(&mut self) -> Result<Option<[u8; BLOCK]>, String> {
        let mut b = [0u8; BLOCK];
        match self.fill(&mut b)? {
            0 => Ok(None),
            BLOCK => Ok(Some(b)),
            _ => Err(format!("the archive is truncated: it ends at byte {} inside a header", self.offset)),
        }
    }

    fn truncated(&self, what: &str) -> String {
        format!("the archive is truncated: it ends at byte {} inside {what}", self.offset)
    }

    /// Copies `n` bytes to `out`, streaming through the input's buffer.
    fn copy(&mut self, mut n: u64, out: &mut dyn Write, what: &str) -> Result<(), String> {
        while n > 0 {
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("reading the archive: {e}")),
            };
            if chunk.is_empty() {
                return Err(self.truncated(what));
            }
            let k = chunk.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            out.write_all(&chunk[..k]).map_err(|e| format!("{what}: {e}"))?;
            self.r.consume(k);
            self.offset += k as u64;
            n -= k as u64;
        }
        Ok(())
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), String> {
        self.copy(n, &mut io::sink(), what)?;
        self.skip_padding(n, what)
    }

    fn skip_padding(&mut self, size: u64, what: &str) -> Result<(), String> {
        let rem = size % BLOCK as u64;
        if rem != 0 {
            self.copy(BLOCK as u64 - rem, &mut io::sink(), what)?;
        }
        Ok(())
    }

    /// A pax or GNU long-name entry's data, bounded by MAX_META.
    fn meta(&mut self, size: u64, what: &str) -> Result<Vec<u8>, String> {
        if size > MAX_META {
            return Err(format!("{what} of {size} bytes is larger than the {MAX_META} accepted"));
        }
        let mut v = Vec::with_capacity(size as usize);
        self.copy(size, &mut v, what)?;
        self.skip_padding(size, what)?;
        Ok(v)
    }

    /// Reads what follows the end marker (tar pads to 10 KiB records), so the writer never sees a broken pipe.
    fn drain(&mut self) -> Result<(), String> {
        loop {
            let n = match self.r.fill_buf() {
                Ok(c) => c.len(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("reading the archive: {e}")),
            };
            if n == 0 {
                return Ok(());
            }
            self.r.consume(n);
            self.offset += n as u64;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system's temp dir, removed when dropped.
    pub(crate) struct TempDir(pub PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("inferno-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        pub(crate) fn path(&self, rel: &str) -> PathBuf {
            self.0.join(rel)
        }
        pub(crate) fn str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Everything under `root` that a copy must keep: path, type, mode, owner, mtime, and content or target.
    fn snapshot(root: &Path) -> Vec<String> {
        fn walk(root: &Path, p: &Path, out: &mut Vec<String>) {
            let m = fs::symlink_metadata(p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let what = if m.file_type().is_symlink() {
                format!("link->{}", fs::read_link(p).unwrap().display())
            } else if m.is_dir() {
                "dir".to_string()
            } else {
                format!("file:{}", String::from_utf8_lossy(&fs::read(p).unwrap()))
            };
            // a symlink's own mode is always 0777 on Linux and not settable: not compared
            let mode = if m.file_type().is_symlink() { 0 } else { m.mode() & 0o7777 };
            out.push(format!("{rel} {what} mode={mode:o} {}:{} mtime={}", m.uid(), m.gid(), m.mtime()));
            if m.is_dir() {
                let mut names: Vec<_> = fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name()).collect();
                names.sort();
                for n in names {
                    walk(root, &p.join(n), out);
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out
    }

    fn set(p: &Path, mode: u32, uid: u32, gid: u32, mtime: i64) {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
        if !fs::symlink_metadata(p).unwrap().file_type().is_symlink() {
            fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
        }
        sys::set_mtime_nofollow(p, mtime).unwrap();
    }

    const LONG_100: &str =
        "a123456789b123456789c123456789d123456789e123456789f123456789g123456789h123456789i123456789j123456789k";

    /// A tree with every kind the archive keeps, special mode bits, owners, and names past ustar's limits.
    fn sample_tree(t: &TempDir) -> PathBuf {
        let top = t.path("src/data");
        let deep = top.join(LONG_100).join(LONG_100).join(LONG_100); // > 255 bytes: pax path
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join("deep.txt"), "deep").unwrap();
        fs::write(top.join(format!("{LONG_100}.txt")), "long name").unwrap(); // > 100 bytes: ustar prefix
        fs::write(top.join("setuid"), "#!/bin/sh\n").unwrap();
        fs::write(top.join("plain"), vec![b'x'; 70_000]).unwrap();
        fs::create_dir(top.join("empty")).unwrap();
        fs::create_dir(top.join("sticky")).unwrap();
        symlink("plain", top.join("rel-link")).unwrap();
        symlink("/nowhere/at/all", top.join("dangling")).unwrap();
        symlink(format!("../{LONG_100}/{LONG_100}"), top.join("long-target")).unwrap(); // > 100: pax linkpath
        set(&top.join("setuid"), 0o4755, 0, 0, 1_700_000_000);
        set(&top.join("plain"), 0o640, 1234, 5678, 1_600_000_000);
        set(&top.join(format!("{LONG_100}.txt")), 0o600, 3_000_000, 7, 1_650_000_000); // uid beyond ustar: pax uid
        set(&deep.join("deep.txt"), 0o644, 0, 0, 1_500_000_000);
        set(&top.join("rel-link"), 0, 42, 43, 1_400_000_000);
        set(&top.join("sticky"), 0o1777, 0, 0, 1_300_000_000);
        set(&top.join("empty"), 0o2750, 0, 99, 1_200_000_000);
        for d in [deep.clone(), deep.parent().unwrap().into(), top.join(LONG_100), top.clone()] {
            set(&d, 0o755, 0, 0, 1_100_000_000);
        }
        top
    }

    fn archive_of(path: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        write_archive(path.to_str().unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn round_trip_keeps_types_modes_owners_times_and_long_names() {
        let t = TempDir::new("arch-rt");
        let top = sample_tree(&t);
        let tar = archive_of(&top);
        assert_eq!(tar.len() % BLOCK, 0);
        assert!(tar.ends_with(&[0u8; 2 * BLOCK]));
        fs::create_dir(t.path("dst")).unwrap();
        extract_archive(&mut tar.as_slice(), t.path("dst").to_str().unwrap()).unwrap();
        let (src, dst) = (snapshot(&t.path("src")), snapshot(&t.path("dst")));
        assert_eq!(src[1..], dst[1..]); // [0] is the roots themselves
        assert!(dst.iter().any(|l| l.starts_with("data/setuid file:") && l.contains("mode=4755")), "{dst:#?}");
        assert!(dst.iter().any(|l| l.contains("3000000:7")), "{dst:#?}");
    }

    #[test]
    fn entries_are_named_after_the_last_component_in_sorted_order() {
        let t = TempDir::new("arch-names");
        let top = sample_tree(&t);
        let out = Command::new("tar").arg("-tf").arg("-").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let names = pipe_through(out, &archive_of(Path::new(&format!("{}/", top.display()))));
        let names: Vec<&str> = names.lines().collect();
        // depth-first, siblings in byte order: the order the snapshot walks in
        let expected: Vec<String> = snapshot(&t.path("src"))[1..]
            .iter()
            .map(|l| {
                let mut f = l.split(' ');
                let (name, what) = (f.next().unwrap(), f.next().unwrap());
                if what == "dir" {
                    format!("{name}/")
                } else {
                    name.to_string()
                }
            })
            .collect();
        assert_eq!(names, expected);
        assert_eq!(names[0], "data/");
    }

    fn pipe_through(mut child: std::process::Child, input: &[u8]) -> String {
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn a_symlink_is_archived_as_itself_even_at_the_top() {
        let t = TempDir::new("arch-toplink");
        fs::write(t.path("target"), "secret").unwrap();
        symlink(t.path("target"), t.path("link")).unwrap();
        let tar = archive_of(&t.path("link"));
        assert_eq!(tar.len(), 3 * BLOCK, "one header, no data, the end marker");
        let h = Header::parse(tar[..BLOCK].try_into().unwrap()).unwrap();
        assert_eq!(
            (h.name.as_slice(), h.kind, h.link),
            (&b"link"[..], b'2', t.path("target").as_os_str().as_bytes().to_vec())
        );
    }

    #[test]
    fn a_missing_path_is_named_in_the_error() {
        let err = write_archive("/no/such/path", &mut Vec::new()).unwrap_err();
        assert_eq!(err, "/no/such/path: no such file or directory");
    }

    #[test]
    fn gnu_tar_reads_what_the_writer_writes() {
        let t = TempDir::new("arch-gnuread");
        let top = sample_tree(&t);
        fs::create_dir(t.path("dst")).unwrap();
        let child = Command::new("tar")
            .args(["--numeric-owner", "-xpf", "-", "-C", t.path("dst").to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        pipe_through(child, &archive_of(&top));
        assert_eq!(snapshot(&t.path("src"))[1..], snapshot(&t.path("dst"))[1..]);
    }

    #[test]
    fn extracts_what_gnu_tar_writes_in_gnu_and_pax_formats() {
        for format in ["gnu", "pax", "ustar"] {
            let t = TempDir::new("arch-gnuwrite");
            let top = sample_tree(&t);
            if format == "ustar" {
                // ustar itself holds neither a 300-byte path nor a 3000000 uid nor a long link target
                fs::remove_dir_all(top.join(LONG_100)).unwrap();
                fs::remove_file(top.join(format!("{LONG_100}.txt"))).unwrap();
                fs::remove_file(top.join("long-target")).unwrap();
                set(&top, 0o755, 0, 0, 1_100_000_000);
            }
            fs::hard_link(top.join("plain"), top.join("zz-hard")).unwrap();
            set(&top, 0o755, 0, 0, 1_100_000_000);
            let out = Command::new("tar")
                .args([
                    "--numeric-owner",
                    &format!("--format={format}"),
                    "-cf",
                    "-",
                    "-C",
                    t.path("src").to_str().unwrap(),
                    "data",
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
            fs::create_dir(t.path("dst")).unwrap();
            extract_archive(&mut out.stdout.as_slice(), t.path("dst").to_str().unwrap()).unwrap();
            assert_eq!(snapshot(&t.path("src"))[1..], snapshot(&t.path("dst"))[1..], "{format}");
            let (a, b) =
                (fs::metadata(t.path("dst/data/plain")).unwrap(), fs::metadata(t.path("dst/data/zz-hard")).unwrap());
            assert_eq!(a.ino(), b.ino(), "{format}: the hard link is one file");
        }
    }

    /// One raw ustar entry, built here independently of the writer, to craft archives the writer never makes.
    fn raw(name: &str, kind: u8, link: &str, data: &[u8]) -> Vec<u8> {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"14000000000\0");
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..265].copy_from_slice(b"ustar\x0000");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut out = h.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }

    fn tar(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = entries.concat();
        out.extend_from_slice(&[0u8; 2 * BLOCK]);
        out
    }

    /// Unpacks into `t/dst/in` and returns the error; `t/dst` holds nothing but `in` afterwards (nothing escaped).
    fn extract_hostile(t: &TempDir, archive: &[u8]) -> String {
        fs::create_dir_all(t.path("dst/in")).unwrap();
        let err = extract_archive(&mut &archive[..], t.path("dst/in").to_str().unwrap()).unwrap_err();
        let outside: Vec<_> = fs::read_dir(t.path("dst")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(outside, ["in"], "nothing may be written beside the destination");
        err
    }

    #[test]
    fn refuses_dot_dot_names() {
        let t = TempDir::new("arch-dotdot");
        for name in ["../x", "a/../../x", "./../x"] {
            let err = extract_hostile(&t, &tar(&[raw(name, b'0', "", b"evil")]));
            assert!(err.contains("`..`"), "{name}: {err}");
        }
    }

    #[test]
    fn absolute_names_are_taken_relative() {
        let t = TempDir::new("arch-abs");
        fs::create_dir(t.path("dst")).unwrap();
        let archive = tar(&[raw("/etc/x", b'0', "", b"inside"), raw("./y", b'0', "", b"y")]);
        extract_archive(&mut archive.as_slice(), t.path("dst").to_str().unwrap()).unwrap();
        assert_eq!(fs::read_to_string(t.path("dst/etc/x")).unwrap(), "inside");
        assert_eq!(fs::read_to_string(t.path("dst/y")).unwrap(), "y");
    }

    #[test]
    fn never_passes_through_a_symlink() {
        let t = TempDir::new("arch-symparent");
        // a symlink to outside, then a file under it
        let err = extract_hostile(&t, &tar(&[raw("l", b'2', "..", b""), raw("l/x", b'0', "", b"evil")]));
        assert!(err.contains("symlink l"), "{err}");
        fs::remove_dir_all(t.path("dst")).unwrap();
        // the same through a directory that is later replaced by the symlink
        let err = extract_hostile(
            &t,
            &tar(&[raw("d/", b'5', "", b""), raw("d", b'2', "..", b""), raw("d/x", b'0', "", b"evil")]),
        );
        assert!(err.contains("symlink d"), "{err}");
    }

    #[test]
    fn an_existing_symlink_is_replaced_not_written_through() {
        let t = TempDir::new("arch-replace");
        fs::create_dir_all(t.path("dst/in")).unwrap();
        fs::write(t.path("dst/outside"), "keep").unwrap();
        symlink("../outside", t.path("dst/in/f")).unwrap();
        fs::create_dir(t.path("dst/in/d")).unwrap();
        fs::write(t.path("dst/in/d/old"), "old").unwrap();
        let archive = tar(&[raw("f", b'0', "", b"new"), raw("d/", b'5', "", b""), raw("d/n", b'0', "", b"n")]);
        extract_archive(&mut archive.as_slice(), t.path("dst/in").to_str().unwrap()).unwrap();
        assert_eq!(fs::read_to_string(t.path("dst/outside")).unwrap(), "keep");
        assert_eq!(fs::read_to_string(t.path("dst/in/f")).unwrap(), "new");
        assert!(!fs::symlink_metadata(t.path("dst/in/f")).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(t.path("dst/in/d/old")).unwrap(), "old", "directories merge");
        assert_eq!(fs::read_to_string(t.path("dst/in/d/n")).unwrap(), "n");
    }

    /// Hands out a few bytes per read, as a pipe or socket may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn unpacks_input_that_arrives_in_small_pieces() {
        let t = TempDir::new("arch-trickle");
        let top = sample_tree(&t);
        let tar = archive_of(&top);
        fs::create_dir(t.path("dst")).unwrap();
        extract_archive(&mut Trickle(&tar), t.path("dst").to_str().unwrap()).unwrap();
        assert_eq!(snapshot(&t.path("src"))[1..], snapshot(&t.path("dst"))[1..]);
    }

    #[test]
    fn a_directory_replaced_later_keeps_what_replaced_it() {
        let t = TempDir::new("arch-dirfile");
        let archive = tar(&[raw("a/", b'5', "", b""), raw("a/b/", b'5', "", b""), raw("a", b'0', "", b"file")]);
        extract_archive(&mut archive.as_slice(), t.str()).unwrap();
        assert_eq!(fs::read_to_string(t.path("a")).unwrap(), "file");
    }

    #[test]
    fn proc_and_sys_are_archived_as_empty_directories() {
        for path in ["/proc", "/sys"] {
            let tar = archive_of(Path::new(path));
            assert_eq!(tar.len(), 3 * BLOCK, "{path}: its directory entry and the end marker only");
            let h = Header::parse(tar[..BLOCK].try_into().unwrap()).unwrap();
            assert_eq!((h.kind, h.name), (b'5', format!("{}/", &path[1..]).into_bytes()));
        }
    }

    #[test]
    fn hard_links_stay_inside() {
        let t = TempDir::new("arch-hardlink");
        fs::create_dir_all(t.path("dst/in")).unwrap();
        fs::write(t.path("dst/secret"), "s").unwrap();
        let err = extract_archive(
            &mut tar(&[raw("h", b'1', "../secret", b"")]).as_slice(),
            t.path("dst/in").to_str().unwrap(),
        )
        .unwrap_err();
        assert!(err.contains("`..`"), "{err}");
        let archive = tar(&[raw("l", b'2', "..", b""), raw("h", b'1', "l/secret", b"")]);
        let err = extract_archive(&mut archive.as_slice(), t.path("dst/in").to_str().unwrap()).unwrap_err();
        assert!(err.contains("symlink l"), "{err}");
        assert!(!t.path("dst/in/h").exists());
    }

    #[test]
    fn refuses_truncated_and_corrupt_archives() {
        let t = TempDir::new("arch-trunc");
        let whole = tar(&[raw("a", b'0', "", &[7u8; 3000]), raw("b", b'0', "", b"b")]);
        for cut in [100, BLOCK + 1000, BLOCK * 7 + 10, BLOCK * 8] {
            fs::create_dir_all(t.path(&format!("c{cut}"))).unwrap();
            let err = extract_archive(&mut &whole[..cut], t.path(&format!("c{cut}")).to_str().unwrap()).unwrap_err();
            assert!(err.contains("truncated"), "cut at {cut}: {err}");
        }
        assert!(!t.path(&format!("c{}/a", BLOCK + 1000)).exists(), "no half file is left behind");
        assert!(extract_archive(&mut &b""[..], t.str()).unwrap_err().contains("truncated"));
        let mut corrupt = whole.clone();
        corrupt[10] ^= 1;
        let err = extract_archive(&mut corrupt.as_slice(), t.str()).unwrap_err();
        assert!(err.contains("checksum"), "{err}");
        let err = extract_archive(&mut whole.as_slice(), t.path("nope").to_str().unwrap()).unwrap_err();
        assert!(err.ends_with("nope: no such directory"), "{err}");
    }

    #[test]
    fn pax_records_carry_what_ustar_cannot() {
        let mut out = Vec::new();
        let attrs = Attrs { mode: 0o644, uid: 3_000_000, gid: 1, mtime: 5 };
        let name = "n/".repeat(200);
        Writer { out: &mut out }.header(name.as_bytes(), None, b'0', attrs, 8 << 30).unwrap();
        let h = Header::parse(out[..BLOCK].try_into().unwrap()).unwrap();
        assert_eq!(h.kind, b'x');
        let pax = Pax::parse(&out[BLOCK..BLOCK + h.size as usize]).unwrap();
        assert_eq!((pax.path.as_deref(), pax.size, pax.uid), (Some(name.as_bytes()), Some(8 << 30), Some(3_000_000)));
        let entry = Header::parse(out[out.len() - BLOCK..].try_into().unwrap()).unwrap();
        assert_eq!((entry.kind, entry.gid, entry.mtime), (b'0', 1, 5));
        // a record's length counts its own digits: 9 + 1 = 10 and 99 + 1 = 100 sit on the edges
        for len in 5..200 {
            let data = pax_records(&[("k", vec![b'v'; len])]);
            let text = String::from_utf8(data.clone()).unwrap();
            assert_eq!(text.split(' ').next().unwrap().parse::<usize>().unwrap(), data.len(), "{text}");
        }
    }

    #[test]
    fn reads_base256_and_octal_numbers() {
        assert_eq!(number(b"0000644\0").unwrap(), 0o644);
        assert_eq!(number(b"  644 \0\0").unwrap(), 0o644);
        assert_eq!(number(&[0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1]).unwrap(), (2 << 32) + 1);
        assert_eq!(number(&[0xff; 12]).unwrap(), -1);
        assert!(number(b"0000a44\0").is_err());
    }
}
