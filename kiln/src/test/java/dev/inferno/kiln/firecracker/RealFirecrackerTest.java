package dev.inferno.kiln.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.Executables;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.sys.Kvm;
import dev.inferno.sys.Users;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production path: real Firecracker under the real jailer on KVM, booting the real kernel. Runs
 * where all of that exists (as root, with cgroup v2); skipped elsewhere with the reason. On a KVM
 * host: {@code ./mvnw -pl kiln -am verify -Dtest=RealFirecrackerTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class RealFirecrackerTest {

  /** Why the production path cannot run here, or null when it can. */
  static String reasonToSkip() {
    if (Executables.find("firecracker").isEmpty()) {
      return "no firecracker binary on PATH (install Firecracker >= 1.14)";
    }
    if (Executables.find("jailer").isEmpty()) {
      return "no jailer binary on PATH";
    }
    Kvm.Probe kvm = Kvm.probe();
    if (!kvm.usable()) {
      return "KVM not usable: " + kvm.reason();
    }
    if (!Users.isRoot()) {
      return "the jailer needs root";
    }
    if (!Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))) {
      return "no cgroup v2 at /sys/fs/cgroup";
    }
    return null;
  }

  @BeforeEach
  void needsTheRealThing() {
    String why = reasonToSkip();
    if (why != null) {
      System.out.println("RealFirecrackerTest skipped: " + why);
    }
    Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
  }

  @Test
  void bootsUnderTheJailerAndStops(@TempDir Path dir) throws Exception {
    Path kernel = TestGuest.kernel();
    Files.setPosixFilePermissions(
        kernel, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
    Firecracker fc = new Firecracker(Firecracker.Config.defaults());
    assertThat(fc.unavailableReason()).isEmpty();
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    VmSpec exits =
        new VmSpec(
            "real-exit",
            kernel,
            TestGuest.init(),
            TestGuest.runConfig("real-exit", "exit", 5),
            null,
            16L << 20,
            1,
            128,
            Duration.ofSeconds(2),
            VmmKind.FIRECRACKER,
            dir.resolve("a"),
            null);
    ExitRecord e = sup.start(exits).exit().get(60, TimeUnit.SECONDS);
    assertThat(e.code()).isEqualTo(5);

    VmSpec hangs =
        new VmSpec(
            "real-hang",
            kernel,
            TestGuest.init(),
            TestGuest.runConfig("real-hang", "hang", 0),
            null,
            0,
            1,
            128,
            Duration.ofSeconds(2),
            VmmKind.FIRECRACKER,
            dir.resolve("b"),
            null);
    RunningVm vm = sup.start(hangs);
    assertThat(vm.stop().code()).isEqualTo(137);
    assertThat(hangs.layout().jailBase().resolve("firecracker/real-hang")).doesNotExist();
    assertThat(Path.of("/sys/fs/cgroup/inferno/real-hang")).doesNotExist();
  }
}
