package dev.inferno.daemon.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Who may talk to the daemon, decided from the peer's SO_PEERCRED credentials: root, the user the
 * daemon runs as, and members of the socket's group (primary or listed in /etc/group). The socket
 * file's 0660 mode already keeps others out; this check holds when the mode was loosened by hand.
 */
public interface PeerPolicy {
  /** Null when allowed, else why not. */
  String check(String user, String group);

  static PeerPolicy standard(String allowedGroup, Path etcGroup) {
    String self = System.getProperty("user.name");
    return (user, group) -> {
      if (user.equals("root") || user.equals(self)) {
        return null;
      }
      if (allowedGroup != null
          && (allowedGroup.equals(group) || members(etcGroup, allowedGroup).contains(user))) {
        return null;
      }
      return "permission denied: user "
          + user
          + " is not root and not in the group "
          + (allowedGroup == null ? "(none configured)" : allowedGroup)
          + "; add the user to that group";
    };
  }

  /** The users listed for a group in an /etc/group-format file. */
  static List<String> members(Path etcGroup, String group) {
    try {
      for (String line : Files.readAllLines(etcGroup)) {
        String[] f = line.split(":", -1);
        if (f.length >= 4 && f[0].equals(group)) {
          return f[3].isEmpty() ? List.of() : List.of(f[3].split(","));
        }
      }
    } catch (IOException e) {
      // no group file: no members
    }
    return List.of();
  }

  PeerPolicy ALLOW_ALL = (u, g) -> null;
}
