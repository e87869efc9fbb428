package dev.inferno.daemon.vm;

/** What a VM gets when its request does not say. */
public record Defaults(int cpus, long memoryBytes, String vmm, int stopTimeoutSeconds) {
  public static final Defaults STANDARD = new Defaults(1, 256L << 20, "auto", 10);
}
