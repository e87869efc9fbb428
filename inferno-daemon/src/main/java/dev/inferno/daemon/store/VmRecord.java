package dev.inferno.daemon.store;

import dev.inferno.model.ExitRecord;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import java.time.Instant;
import java.util.List;

/** A VM's row in the database. */
public record VmRecord(
    String id,
    String name,
    String image,
    String imageDigest,
    List<String> command,
    RunRequest request,
    VmState state,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    ExitRecord exit,
    Long pid,
    String vmm,
    boolean autoRemove) {
  public VmRecord {
    command = List.copyOf(command);
  }

  public VmRecord started(Instant at, long pid, String vmm) {
    return new VmRecord(
        id,
        name,
        image,
        imageDigest,
        command,
        request,
        VmState.RUNNING,
        createdAt,
        at,
        null,
        null,
        pid,
        vmm,
        autoRemove);
  }

  public VmRecord exited(ExitRecord e) {
    return new VmRecord(
        id,
        name,
        image,
        imageDigest,
        command,
        request,
        VmState.EXITED,
        createdAt,
        startedAt,
        e.finishedAt(),
        e,
        null,
        vmm,
        autoRemove);
  }
}
