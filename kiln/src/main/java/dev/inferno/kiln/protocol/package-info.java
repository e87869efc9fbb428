/**
 * The host side of the init ⇄ kiln wire protocol (docs/PROTOCOL.md): {@link
 * dev.inferno.kiln.protocol.Frame} (a sealed interface of records, one per frame type), {@link
 * dev.inferno.kiln.protocol.Codec} (encoding, payload parsing) and {@link
 * dev.inferno.kiln.protocol.FrameDecoder} (streaming, with the resynchronisation rules of §2), and
 * the guest's run config {@link dev.inferno.kiln.protocol.RunConfig} (§5). Tested against the
 * golden vectors and run configs in testdata/protocol, like init.
 */
package dev.inferno.kiln.protocol;
