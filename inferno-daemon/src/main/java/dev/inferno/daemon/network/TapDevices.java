package dev.inferno.daemon.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The host side of a VM's link: one TAP device per VM, named {@code inf} + the first 12 hex digits
 * of the VM id (15 characters, the kernel's limit), holding the host address of the VM's /30.
 * Created with one {@code ip -batch -} exec, so the device, its address and its state come in one
 * step; removed with {@code ip link del}.
 */
public final class TapDevices {
  public static final String PREFIX = "inf";
  public static final int DEFAULT_MTU = 1500;
  static final Path SYS_CLASS_NET = Path.of("/sys/class/net");
  private static final Logger LOG = Logger.getLogger(TapDevices.class.getName());

  private TapDevices() {}

  /** The TAP of a VM: inf + 12 hex digits of its id. */
  public static String nameFor(String vmId) {
    return nameFor(PREFIX, vmId);
  }

  /**
   * Why {@code prefix} cannot name a daemon's TAPs, if it cannot: 1 to 3 lower-case letters, so a
   * TAP keeps 12 digits of the VM id (as many as Docker's short id) within 15 characters.
   */
  public static Optional<String> prefixProblem(String prefix) {
    return prefix.matches("[a-z]{1,3}")
        ? Optional.empty()
        : Optional.of("\"" + prefix + "\" must be 1 to 3 lower-case letters");
  }

  /** The TAP of a VM: prefix + as many digits of its id as fit in the kernel's 15 characters. */
  public static String nameFor(String prefix, String vmId) {
    int digits = 15 - prefix.length();
    if (vmId.length() < digits) {
      throw new IllegalArgumentException(
          "VM id " + vmId + " is shorter than " + digits + " characters");
    }
    return prefix + vmId.substring(0, digits);
  }

  /** What a TAP is created with. uid/gid own it, so a jailed VMM running as them can open it. */
  public record Tap(String name, Ipv4Cidr slot, int mtu, int uid, int gid) {
    public Tap {
      if (name.isEmpty() || name.length() > 15 || !name.chars().allMatch(TapDevices::nameChar)) {
        throw new IllegalArgumentException(
            "'" + name + "' is not a valid interface name (1-15 letters, digits, '-', '_')");
      }
    }

    /** The host's address on the link, with the /30 it routes: e.g. 172.30.0.1/30. */
    public String hostCidr() {
      return Ipv4Cidr.formatAddress(AddressPool.hostAddress(slot)) + "/" + slot.prefix();
    }
  }

  private static boolean nameChar(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_';
  }

  /** The {@code ip -batch} script that creates the TAP: one exec, stops at the first error. */
  static String createScript(Tap t) {
    return "tuntap add name "
        + t.name()
        + " mode tap user "
        + t.uid()
        + " group "
        + t.gid()
        + "\naddr add "
        + t.hostCidr()
        + " dev "
        + t.name()
        + "\nlink set "
        + t.name()
        + " mtu "
        + t.mtu()
        + " up\n";
  }

  /** Creates the TAP; on failure nothing is left behind. One that already exists is an error. */
  public static void create(Tap t) throws IOException {
    if (exists(t.name())) {
      // not ours to reuse or delete: it may belong to a live VM or to someone else
      throw new CommandException(
          "cannot create the network device "
              + t.name()
              + ": it already exists; remove it with `ip link del "
              + t.name()
              + "` if no VM uses it");
    }
    try {
      Commands.run(List.of("ip", "-batch", "-"), createScript(t));
    } catch (IOException e) {
      // the device may exist with its address or state missing: take it away again
      try {
        delete(t.name());
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new CommandException(
          "cannot create the network device " + t.name() + ": " + e.getMessage(), e);
    }
  }

  /** Removes a TAP; one that is already gone is not an error. */
  public static void delete(String name) throws IOException {
    if (!exists(name)) {
      return;
    }
    try {
      Commands.run(List.of("ip", "link", "del", "dev", name), "");
    } catch (CommandException e) {
      if (exists(name)) {
        throw e;
      }
    }
  }

  public static boolean exists(String name) {
    return Files.exists(SYS_CLASS_NET.resolve(name));
  }

  /** The TAP devices whose name starts with prefix (tun/tap devices have a tun_flags file). */
  public static List<String> list(String prefix) throws IOException {
    try (Stream<Path> s = Files.list(SYS_CLASS_NET)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(prefix))
          .filter(n -> Files.exists(SYS_CLASS_NET.resolve(n).resolve("tun_flags")))
          .sorted()
          .toList();
    }
  }

  /**
   * Removes the TAPs with prefix that no live VM owns (keep): what a daemon start does for the
   * leftovers of VMs that went away while it was down. Returns the names it removed.
   */
  public static List<String> removeLeftovers(String prefix, Set<String> keep) throws IOException {
    List<String> gone = list(prefix).stream().filter(n -> !keep.contains(n)).toList();
    for (String n : gone) {
      LOG.info(() -> "removing network device " + n + ": no VM owns it");
      delete(n);
    }
    return gone;
  }
}
