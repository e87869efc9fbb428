package dev.inferno.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsersOwnershipKvmTest {

  private static int idOf(String flag) throws Exception {
    Process p = new ProcessBuilder("id", flag).start();
    return Integer.parseInt(new String(p.getInputStream().readAllBytes()).trim());
  }

  @Test
  void idsMatchTheIdCommand() throws Exception {
    assertThat(Users.getuid()).isEqualTo(idOf("-ru"));
    assertThat(Users.geteuid()).isEqualTo(idOf("-u"));
    assertThat(Users.getgid()).isEqualTo(idOf("-rg"));
  }

  @Test
  void lchownChangesOwnerOrSaysWhyNot(@TempDir Path dir) throws Exception {
    Path file = Files.createFile(dir.resolve("f"));
    Path link = Files.createSymbolicLink(dir.resolve("l"), file);
    if (Users.isRoot()) {
      Ownership.lchown(link, 40001, 40002);
      assertThat(Files.getAttribute(link, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(40001);
      assertThat(Files.getAttribute(link, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(40002);
      // the target is untouched: lchown does not follow
      assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(Users.geteuid());
    } else {
      assertThatThrownBy(() -> Ownership.lchown(file, 40001, 40002))
          .isInstanceOf(SyscallException.class)
          .hasMessageContaining("lchown");
    }
  }

  @Test
  void lchownOfAMissingFileNamesErrno(@TempDir Path dir) {
    assertThatThrownBy(() -> Ownership.lchown(dir.resolve("missing"), 1, 1))
        .isInstanceOf(SyscallException.class)
        .hasMessageContaining("missing")
        .satisfies(e -> assertThat(((SyscallException) e).errno()).isEqualTo(Errno.ENOENT));
  }

  @Test
  void kvmProbeRejectsWhatIsNotKvm(@TempDir Path dir) {
    Kvm.Probe missing = Kvm.probe(dir.resolve("kvm"));
    assertThat(missing.usable()).isFalse();
    assertThat(missing.reason()).contains("cannot open");
    Kvm.Probe devNull = Kvm.probe(Path.of("/dev/null"));
    assertThat(devNull.usable()).isFalse();
    assertThat(devNull.reason()).contains("not a KVM device");
  }

  @Test
  void aCpuWithoutVmxOrSvmHasNoUsableKvm(@TempDir Path dir) throws Exception {
    Path intel = dir.resolve("intel");
    Files.writeString(intel, "processor\t: 0\nflags\t\t: fpu vme sse2 vmx ept\n");
    Path amd = dir.resolve("amd");
    Files.writeString(amd, "processor\t: 0\nflags\t\t: fpu svm npt\n");
    Path nested = dir.resolve("nested");
    Files.writeString(nested, "processor\t: 0\nflags\t\t: fpu vme hypervisor vmxnet\n");
    assertThat(Kvm.hasVirtualisationFlag(intel)).isTrue();
    assertThat(Kvm.hasVirtualisationFlag(amd)).isTrue();
    assertThat(Kvm.hasVirtualisationFlag(nested)).isFalse();
    assertThat(Kvm.hasVirtualisationFlag(dir.resolve("absent"))).isFalse();
  }

  @Test
  void kvmProbeOfTheRealDeviceAnswers() {
    Kvm.Probe probe = Kvm.probe();
    System.out.println("/dev/kvm probe: " + probe);
    if (!Files.exists(Path.of("/dev/kvm"))
        || !Kvm.hasVirtualisationFlag(Path.of("/proc/cpuinfo"))) {
      assertThat(probe.usable()).isFalse();
    }
    assertThat(probe.reason()).isNotBlank();
  }
}
