package dev.inferno.kiln.guest;

/**
 * Who must be able to connect to kiln's listening sockets: the jailed Firecracker runs as its own
 * uid/gid, so the socket files are chowned to it (mode 0600). Without an owner they stay kiln's
 * own, mode 0600 (QEMU runs as kiln's user).
 */
public record SocketOwner(int uid, int gid) {}
