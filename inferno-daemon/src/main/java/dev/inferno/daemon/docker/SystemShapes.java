package dev.inferno.daemon.docker;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * Docker's answers to {@code /version}, {@code /info} and {@code /events}, field for field as
 * dockerd spells them (the CLIs and docker-java read these names).
 */
final class SystemShapes {
  private SystemShapes() {}

  record Platform(String Name) {}

  record ComponentDetails(
      String ApiVersion,
      String Arch,
      String BuildTime,
      String Experimental,
      String GitCommit,
      String GoVersion,
      String KernelVersion,
      String MinAPIVersion,
      String Os) {}

  record Component(String Name, String Version, ComponentDetails Details) {}

  record Version(
      Platform Platform,
      List<Component> Components,
      String Version,
      String ApiVersion,
      String MinAPIVersion,
      String GitCommit,
      String GoVersion,
      String Os,
      String Arch,
      String KernelVersion,
      String BuildTime) {}

  record Runtime(String path) {}

  record Commit(String ID, String Expected) {}

  record Swarm(
      String NodeID,
      String NodeAddr,
      String LocalNodeState,
      boolean ControlAvailable,
      String Error,
      List<String> RemoteManagers) {}

  record Plugins(List<String> Volume, List<String> Network, List<String> Log) {}

  record RegistryConfig(
      List<String> InsecureRegistryCIDRs, Map<String, Object> IndexConfigs, List<String> Mirrors) {}

  record Info(
      @JsonProperty("ID") String ID,
      int Containers,
      int ContainersRunning,
      int ContainersPaused,
      int ContainersStopped,
      int Images,
      String Driver,
      List<List<String>> DriverStatus,
      Plugins Plugins,
      boolean MemoryLimit,
      boolean SwapLimit,
      boolean CpuCfsPeriod,
      boolean CpuCfsQuota,
      boolean IPv4Forwarding,
      boolean Debug,
      String SystemTime,
      String LoggingDriver,
      String CgroupDriver,
      String CgroupVersion,
      int NEventsListener,
      String KernelVersion,
      String OperatingSystem,
      String OSVersion,
      String OSType,
      String Architecture,
      String IndexServerAddress,
      RegistryConfig RegistryConfig,
      int NCPU,
      long MemTotal,
      String DockerRootDir,
      String HttpProxy,
      String HttpsProxy,
      String NoProxy,
      String Name,
      List<String> Labels,
      boolean ExperimentalBuild,
      String ServerVersion,
      Map<String, Runtime> Runtimes,
      String DefaultRuntime,
      Swarm Swarm,
      boolean LiveRestoreEnabled,
      String Isolation,
      String InitBinary,
      Commit ContainerdCommit,
      Commit RuncCommit,
      Commit InitCommit,
      List<String> SecurityOptions,
      List<String> Warnings) {}

  record Actor(@JsonProperty("ID") String ID, Map<String, String> Attributes) {}

  /**
   * One event; {@code status}, {@code id} and {@code from} are the pre-1.22 fields dockerd still
   * writes for container and image events (absent for others).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Event(
      String status,
      String id,
      String from,
      String Type,
      String Action,
      Actor Actor,
      String scope,
      long time,
      long timeNano) {}
}
