package dev.inferno.kiln.firecracker;

import dev.inferno.sys.Ownership;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A fake of Firecracker's jailer (docs/jailer.md): records its argv in {@code
 * <chroot_base>/jailer.argv}, validates it like the jailer, builds {@code
 * <chroot_base>/<exec_file_name>/<id>/root} with /dev, /dev/net and /run owned by uid:gid, copies
 * the exec file in, "writes" the cgroup files under {@code <chroot_base>/fake-cgroup}, then
 * daemonizes the exec file in a new session with a cleared environment and stores its pid in {@code
 * <root>/<exec_file_name>.pid}. What a JVM cannot do (chroot, new pid ns, setuid) is passed to the
 * fake Firecracker as FAKE_CHROOT / FAKE_UID instead.
 */
public final class FakeJailer {
  private static final Pattern ID = Pattern.compile("[a-zA-Z0-9-]{1,64}");

  private FakeJailer() {}

  private static void fail(String message) {
    System.err.println("Jailer error: " + message);
    System.exit(1);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> single = new LinkedHashMap<>();
    List<String> cgroups = new ArrayList<>();
    List<String> extra = new ArrayList<>();
    boolean daemonize = false;
    boolean newPidNs = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--" -> {
          extra.addAll(List.of(args).subList(i + 1, args.length));
          i = args.length;
        }
        case "--daemonize" -> daemonize = true;
        case "--new-pid-ns" -> newPidNs = true;
        case "--cgroup" -> cgroups.add(args[++i]);
        case "--id",
            "--exec-file",
            "--uid",
            "--gid",
            "--cgroup-version",
            "--parent-cgroup",
            "--chroot-base-dir",
            "--netns",
            "--resource-limit" ->
            single.put(a.substring(2), args[++i]);
        default -> fail("Found argument '" + a + "' which wasn't expected");
      }
    }
    for (String required : List.of("id", "exec-file", "uid", "gid")) {
      if (!single.containsKey(required)) {
        fail("Missing mandatory argument: " + required);
      }
    }
    String id = single.get("id");
    if (!ID.matcher(id).matches()) {
      fail("Invalid instance ID: " + id);
    }
    Path exec = Path.of(single.get("exec-file"));
    String execName = exec.getFileName().toString();
    if (!execName.contains("firecracker")) {
      fail("Invalid filename. The filename of `--exec-file` option must contain \"firecracker\"");
    }
    if (!Files.isRegularFile(exec)) {
      fail("Failed to canonicalize path " + exec);
    }
    Path base = Path.of(single.getOrDefault("chroot-base-dir", "/srv/jailer"));
    Files.createDirectories(base);
    Files.write(base.resolve("jailer.argv"), List.of(args), StandardCharsets.UTF_8);
    int uid = Integer.parseInt(single.get("uid"));
    int gid = Integer.parseInt(single.get("gid"));
    String version = single.getOrDefault("cgroup-version", "1");
    if (!version.equals("1") && !version.equals("2")) {
      fail("Invalid cgroup version: " + version);
    }
    Path cgroupDir =
        base.resolve("fake-cgroup")
            .resolve(single.getOrDefault("parent-cgroup", execName))
            .resolve(id);
    Files.createDirectories(cgroupDir);
    for (String cg : cgroups) {
      int eq = cg.indexOf('=');
      if (eq < 0 || !cg.substring(0, eq).contains(".")) {
        fail("Invalid format for cgroups: " + cg);
      }
      Files.writeString(cgroupDir.resolve(cg.substring(0, eq)), cg.substring(eq + 1));
    }
    Path root = base.resolve(execName).resolve(id).resolve("root");
    for (String d : List.of("", "dev", "dev/net", "run")) {
      Path dir = Files.createDirectories(root.resolve(d));
      Ownership.lchown(dir, uid, gid);
    }
    Path chrootExec = root.resolve(execName);
    Files.copy(exec, chrootExec, StandardCopyOption.REPLACE_EXISTING);
    Ownership.lchown(chrootExec, uid, gid);
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "setsid",
                "--fork",
                "sh",
                "-c",
                "echo $$ >\"$0\" && exec \"$@\"",
                root.resolve(".fake-pid").toString(),
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "FAKE_CHROOT=" + root,
                "FAKE_UID=" + uid,
                "./" + execName,
                "--id=" + id,
                "--start-time-us=0",
                "--start-time-cpu-us=0"));
    cmd.addAll(extra);
    if (!daemonize || !newPidNs) {
      fail("this fake only implements --daemonize --new-pid-ns");
    }
    Process p =
        new ProcessBuilder(cmd)
            .directory(root.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("fake-fc.out").toFile()))
            .redirectErrorStream(true)
            .start();
    p.waitFor();
    Path fakePid = root.resolve(".fake-pid");
    while (!Files.exists(fakePid) || Files.readString(fakePid).isBlank()) {
      Thread.sleep(2);
    }
    String pid = Files.readString(fakePid).strip();
    Files.delete(fakePid);
    Files.writeString(root.resolve(execName + ".pid"), pid, StandardOpenOption.CREATE_NEW);
    System.exit(0);
  }
}
