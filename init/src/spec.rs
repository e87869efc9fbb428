//! What init resolves of the process itself, because it needs the guest's files (docs/PROTOCOL.md §5): the
//! user through /etc/passwd and /etc/group, HOME, and signal names. Docker's merge of the image config and the
//! user's flags (argv, env, workdir) is the host's (kiln's `dev.inferno.kiln.run.DockerRun`).

/// PATH for argv[0]'s lookup when the process's env has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A `docker run` failure with the code it exits with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn setup(message: impl Into<String>) -> Self {
        Failure { code: 125, message: message.into() }
    }
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// HOME from the user's passwd entry unless the environment already sets it.
pub fn finish_env(mut env: Vec<String>, home: &str) -> Vec<String> {
    if !env.iter().any(|e| env_key(e) == "HOME") {
        env.push(format!("HOME={home}"));
    }
    env
}

pub fn lookup_env<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter().rev().find(|e| env_key(e) == key).and_then(|e| e.split_once('=')).map(|(_, v)| v)
}

const SIGNALS: [(&str, i32); 31] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// `SIGTERM`, `TERM`, `term` or `15`; real-time signals by number.
pub fn parse_signal(s: &str) -> Result<i32, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return if (1..=64).contains(&n) { Ok(n) } else { Err(format!("invalid stop signal {s:?}: out of range")) };
    }
    let up = t.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("invalid stop signal {s:?}: not a signal name or number"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (includes the primary gid, as runc does).
    pub groups: Vec<u32>,
    pub home: String,
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 6 {
            return None;
        }
        Some(PasswdEntry { name: f[0], uid: f[2].parse().ok()?, gid: f[3].parse().ok()?, home: f[5] })
    })
}

/// The name of `uid` in a passwd file's text (what `ps` shows for a process's user), if it has one.
pub fn user_name(passwd: &str, uid: u32) -> Option<&str> {
    passwd_entries(passwd).find(|e| e.uid == uid).map(|e| e.name)
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 3 {
            return None;
        }
        let members =
            f.get(3).map(|m| m.split(',').map(str::trim).filter(|m| !m.is_empty()).collect()).unwrap_or_default();
        Some(GroupEntry { name: f[0], gid: f[2].parse().ok()?, members })
    })
}

/// Resolves Docker's `User` (`name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`) against the image's
/// `/etc/passwd` and `/etc/group` (their contents; empty when the image has none), as runc does.
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<User, Failure> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let u = if u.is_empty() { "0" } else { u };
    let numeric_uid = u.parse::<u32>().ok();
    let entry = passwd_entries(passwd).find(|e| e.name == u || numeric_uid == Some(e.uid));
    let (uid, mut gid, home, name) = match (&entry, numeric_uid) {
        (Some(e), _) => (e.uid, e.gid, e.home.to_string(), Some(e.name)),
        (None, Some(n)) => (n, 0, "/".to_string(), None),
        (None, None) => {
            return Err(Failure::setup(format!("unable to find user {u}: no matching entries in passwd file")))
        }
    };
    let mut groups = Vec::new();
    match g {
        Some(g) if !g.is_empty() => {
            let numeric_gid = g.parse::<u32>().ok();
            match (group_entries(group).find(|e| e.name == g || numeric_gid == Some(e.gid)), numeric_gid) {
                (Some(e), _) => gid = e.gid,
                (None, Some(n)) => gid = n,
                (None, None) => {
                    return Err(Failure::setup(format!("unable to find group {g}: no matching entries in group file")))
                }
            }
        }
        _ => {}
    }
    groups.push(gid);
    // Supplementary groups come from /etc/group membership of a named user (only when no group was forced,
    // as Docker does: `-u name:group` runs with exactly that group).
    if let (Some(name), None) = (name, g) {
        for e in group_entries(group) {
            if e.members.contains(&name) && !groups.contains(&e.gid) {
                groups.push(e.gid);
            }
        }
    }
    Ok(User { uid, gid, groups, home: if home.is_empty() { "/".into() } else { home } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_from_passwd_unless_env_sets_it() {
        let env = vec!["HOSTNAME=mine".to_string(), "PATH=/opt/bin".to_string()];
        assert_eq!(finish_env(env, "/root").last().unwrap(), "HOME=/root");
        let with_home = finish_env(vec!["HOME=/custom".into()], "/root");
        assert_eq!(with_home, vec!["HOME=/custom"]);
        assert_eq!(lookup_env(&["PATH=/a".into(), "X=1".into()], "PATH"), Some("/a"));
    }

    #[test]
    fn signal_names() {
        assert_eq!(parse_signal("SIGTERM"), Ok(15));
        assert_eq!(parse_signal("term"), Ok(15));
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("SIGWINCH"), Ok(28));
        assert!(parse_signal("SIGFOO").is_err());
        assert!(parse_signal("0").is_err());
    }

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        # comment line\n\
        app:x:1000:1000:App:/home/app:/bin/sh\n\
        nohome:x:1001:1001::: \n\
        broken line\n";
    const GROUP: &str = "root:x:0:\n\
        daemon:x:1:\n\
        tty:x:5:app\n\
        app:x:1000:\n\
        staff:x:50:app,other\n\
        web:x:2000:\n";

    fn r(spec: &str) -> Result<User, Failure> {
        resolve_user(spec, PASSWD, GROUP)
    }

    #[test]
    fn user_by_name_gets_passwd_gid_home_and_supplementary_groups() {
        assert_eq!(
            r("app").unwrap(),
            User { uid: 1000, gid: 1000, groups: vec![1000, 5, 50], home: "/home/app".into() }
        );
    }

    #[test]
    fn user_by_uid_found_and_not_found() {
        assert_eq!(r("1").unwrap(), User { uid: 1, gid: 1, groups: vec![1], home: "/usr/sbin".into() });
        assert_eq!(r("4242").unwrap(), User { uid: 4242, gid: 0, groups: vec![0], home: "/".into() });
        assert_eq!(r("").unwrap().uid, 0);
        assert_eq!(r("0:0").unwrap(), User { uid: 0, gid: 0, groups: vec![0], home: "/root".into() });
    }

    #[test]
    fn user_with_group_forms() {
        assert_eq!(r("app:web").unwrap(), User { uid: 1000, gid: 2000, groups: vec![2000], home: "/home/app".into() });
        assert_eq!(r("app:77").unwrap().gid, 77);
        assert_eq!(r("1234:2345").unwrap(), User { uid: 1234, gid: 2345, groups: vec![2345], home: "/".into() });
        assert_eq!(r("1000:staff").unwrap(), User { uid: 1000, gid: 50, groups: vec![50], home: "/home/app".into() });
    }

    #[test]
    fn unknown_names_are_125() {
        let e = r("nobody").unwrap_err();
        assert_eq!(e.code, 125);
        assert!(e.message.contains("unable to find user nobody"), "{}", e.message);
        assert!(r("app:nogroup").unwrap_err().message.contains("unable to find group nogroup"));
        // an image without /etc/passwd still accepts numeric users
        assert_eq!(resolve_user("5:6", "", "").unwrap().gid, 6);
        assert!(resolve_user("app", "", "").is_err());
    }

    #[test]
    fn empty_home_field_falls_back_to_root_dir() {
        assert_eq!(r("nohome").unwrap().home, "/");
    }
}
