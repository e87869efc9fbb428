/**
 * The host side of the session channel (docs/PROTOCOL.md §10): the main process's stdin and
 * terminal size, and exec sessions (commands, archives for {@code cp}, the process list for {@code
 * top}) in a running VM. {@link GuestExec} is one VM's entry point; it is reached through {@code
 * RunningVm.exec()}.
 */
package dev.inferno.kiln.exec;
