package dev.inferno.kiln.vm;

/**
 * Who must own a VM's TAP device: the uid/gid its VMM process runs as when that is not kiln's own
 * user (Firecracker under the jailer). The jailed VMM has no CAP_NET_ADMIN, and the kernel lets a
 * process without it attach to a persistent TAP only when the TAP's owner is its uid or its group
 * its gid, so the host makes the TAP with {@code ip tuntap add NAME mode tap user UID group GID}.
 */
public record TapOwner(int uid, int gid) {}
