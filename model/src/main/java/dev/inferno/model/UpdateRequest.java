package dev.inferno.model;

/**
 * Body of {@code POST /v1/vms/{id}/update} ({@code inferno update}, Docker's {@code docker
 * update}): what a VM is recorded with and may change after it was created. Null leaves a field as
 * it is.
 *
 * @param restart the restart policy, as {@link RunRequest#restart}: it applies from the VM's next
 *     exit
 * @param memoryBytes guest memory, as {@link RunRequest#memoryBytes}: from the VM's next boot
 * @param cpus vCPUs, as {@link RunRequest#cpus} (rounded up to whole vCPUs): from the VM's next
 *     boot
 */
public record UpdateRequest(String restart, Long memoryBytes, Double cpus) {
  /** Whether nothing is asked to change. */
  public boolean empty() {
    return restart == null && memoryBytes == null && cpus == null;
  }
}
