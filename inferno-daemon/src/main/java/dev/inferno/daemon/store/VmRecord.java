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
    boolean autoRemove,
    RestartState restart) {
  public VmRecord {
    command = List.copyOf(command);
    restart = restart == null ? RestartState.NONE : restart;
  }

  /** A record without restart bookkeeping yet. */
  public VmRecord(
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
    this(
        id,
        name,
        image,
        imageDigest,
        command,
        request,
        state,
        createdAt,
        startedAt,
        finishedAt,
        exit,
        pid,
        vmm,
        autoRemove,
        RestartState.NONE);
  }

  private VmRecord with(VmState s, RestartState r) {
    return new VmRecord(
        id,
        name,
        image,
        imageDigest,
        command,
        request,
        s,
        createdAt,
        startedAt,
        finishedAt,
        exit,
        pid,
        vmm,
        autoRemove,
        r);
  }

  public VmRecord withRestart(RestartState r) {
    return with(state, r);
  }

  /** Running or paused (the VMM's vCPUs stopped). */
  public VmRecord paused(boolean p) {
    return with(p ? VmState.PAUSED : VmState.RUNNING, restart);
  }

  /** Exited with a restart due at {@code r.restartAt()}. */
  public VmRecord restarting(ExitRecord e, RestartState r) {
    return exited(e).with(VmState.RESTARTING, r);
  }

  /** Exited for good: a pending restart dropped. */
  public VmRecord settled() {
    return with(state == VmState.RESTARTING ? VmState.EXITED : state, restart.settled());
  }

  public VmRecord renamed(String newName) {
    return named(newName, request.withName(newName));
  }

  /** The same VM recorded with another request ({@code update}: restart policy, size). */
  public VmRecord withRequest(RunRequest q) {
    return named(name, q);
  }

  private VmRecord named(String newName, RunRequest q) {
    return new VmRecord(
        id,
        newName,
        image,
        imageDigest,
        command,
        q,
        state,
        createdAt,
        startedAt,
        finishedAt,
        exit,
        pid,
        vmm,
        autoRemove,
        restart);
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
        autoRemove,
        restart.settled());
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
        autoRemove,
        restart);
  }
}
