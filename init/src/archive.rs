//! Tar archives for `cp` (PROTOCOL.md §10 `archive-get` / `archive-put`): a POSIX ustar writer with pax records
//! for what ustar cannot hold, and a reader (ustar, pax, GNU long names) that unpacks under one directory and
//! refuses anything that would land outside it. Both stream: memory stays bounded whatever the archive's size.
//!
//! Regular files, directories and symlinks are archived; hard links are stored as regular files. FIFOs, devices
//! and sockets are skipped when writing, and ignored when unpacking (what `docker cp` of a plain tree needs;
//! creating device nodes from a host-supplied archive is not something `cp` should do).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::sys;

const BLOCK: usize = 512;
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
    let mut w = Writer { out };
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
            return self.header(&name, Some(target.as_os_str().as_bytes()), b'2', meta, 0);
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
            self.header(&name, None, b'0', meta, size)?;
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
        self.header(&name, None, b'5', meta, 0)?;
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
    fn header(
        &mut self,
        name: &[u8],
        link: Option<&[u8]>,
        kind: u8,
        meta: &fs::Metadata,
        size: u64,
    ) -> Result<(), String> {
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
        octal(&mut h[100..108], u64::from(meta.mode() & 0o7777));
        for (range, id, key) in [(108..116, meta.uid(), "uid"), (116..124, meta.gid(), "gid")] {
            if u64::from(id) > MAX_OCTAL_7 {
                pax.push((key, id.to_string().into_bytes()));
            }
            octal(&mut h[range], u64::from(id).min(MAX_OCTAL_7));
        }
        if size > MAX_OCTAL_11 {
            pax.push(("size", size.to_string().into_bytes()));
        }
        octal(&mut h[124..136], size.min(MAX_OCTAL_11));
        octal(&mut h[136..148], meta.mtime().clamp(0, MAX_OCTAL_11 as i64) as u64);
        h[156] = kind;
        if !pax.is_empty() {
            let data = pax_records(&pax);
            let mut ph = [0u8; BLOCK];
            ph[..PAX_NAME.len()].copy_from_slice(PAX_NAME);
            octal(&mut ph[100..108], 0o644);
            octal(&mut ph[108..116], 0);
            octal(&mut ph[116..124], 0);
            octal(&mut ph[124..136], data.len() as u64);
            octal(&mut ph[136..148], meta.mtime().clamp(0, MAX_OCTAL_11 as i64) as u64);
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
    // the last `/` that leaves a non-empty name of at most 100 bytes and a prefix of at most 155
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
    let mut r = Input { r: input, offset: 0 };
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
                r.copy(size, &mut file, &shown)?;
                drop(file);
                r.skip_padding(size, &shown)?;
                attrs.apply(&target, true).map_err(fail)?;
            }
        }
    }
    // deepest first, so that a directory's mtime is set after its children were written
    for (rel, attrs) in dirs.iter().rev() {
        let shown = rel.display();
        // re-checked: a later entry may have replaced this directory (or a parent) with a symlink
        let path = parent_inside(root, rel, false).map_err(|e| format!("{shown}: {e}"))?;
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => attrs.apply(&path, true).map_err(|e| format!("{shown}: {e}"))?,
            _ => {}
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
}

impl Attrs {
    /// Owner, then mode (chown clears setuid/setgid), then times; never through a final symlink.
    fn apply(&self, path: &Path, chmod: bool) -> io::Result<()> {
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
    r: &'a mut dyn Read,
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

    /// Copies `n` bytes to `out`, streaming.
    fn copy(&mut self, mut n: u64, out: &mut dyn Write, what: &str) -> Result<(), String> {
        let mut buf = [0u8; 64 * 1024];
        while n > 0 {
            let want = n.min(buf.len() as u64) as usize;
            let got = self.fill(&mut buf[..want])?;
            if got == 0 {
                return Err(self.truncated(what));
            }
            out.write_all(&buf[..got]).map_err(|e| format!("{what}: {e}"))?;
            n -= got as u64;
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
        let mut buf = [0u8; 64 * 1024];
        while self.fill(&mut buf)? == buf.len() {}
        Ok(())
    }
}
