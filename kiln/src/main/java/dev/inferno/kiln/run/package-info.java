/**
 * Docker's run semantics, owned here once: {@link dev.inferno.kiln.run.DockerRun} merges an image's
 * config with the user's {@code run} flags into the process init runs. The daemon and {@code kiln
 * --config} both use it; init only resolves what needs the guest's files (PROTOCOL.md §5).
 */
package dev.inferno.kiln.run;
