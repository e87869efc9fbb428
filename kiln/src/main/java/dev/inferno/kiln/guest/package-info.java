/**
 * The host end of the guest channels for both VMMs. A VMM driver wires one VM like this, before
 * starting the VMM:
 *
 * <pre>{@code
 * LogStore logs = LogStore.open(vmDir.resolve("logs"));
 * GuestTransport t = qemu
 *     ? new GuestTransport.VirtioSerial(vmDir)  // QEMU connects to vmDir/{logs,exit,control,metrics}.sock
 *     : new GuestTransport.HybridVsock(jailRoot.resolve("v.sock"), ports,  // Firecracker's uds_path, seen from the host
 *         new SocketOwner(vmUid, vmGid));      // the jailed VMM must connect to the listeners
 * GuestLink link = GuestLink.start(new GuestLink.Config(vmId, t, logs, vmDir.resolve("exit.json")));
 * // QEMU, per Channel c: -chardev socket,id=c,path=t.listenPath(c),server=off,reconnect=1
 * //                      -device virtserialport,chardev=c,name=c.portName()
 * // ... start the VMM; link.stop(grace) / link.signal(n, timeout); link.exit() completes with the report ...
 * // after the VMM exited: if (!link.exit().isDone()) ConsoleExit.recover(console) → link.recordExit(...), else a
 * // host-made report; then link.close(); logs.close();
 * }</pre>
 */
package dev.inferno.kiln.guest;
