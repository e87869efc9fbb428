/**
 * Per-VM log storage: {@link dev.inferno.kiln.logs.LogStore} (append, force, tail, since, follow,
 * dedup of init's resends, retention), {@link dev.inferno.kiln.logs.LogCursor} (reading and
 * following) and {@link dev.inferno.kiln.logs.LogSink} (optional NDJSON forwarding to a collector).
 *
 * <p>On disk, one directory per VM holds {@code <first ordinal, 20 digits>.seg} segment files (a
 * CRC'd header with the boot → highest-seq table and running time maxima, then length+CRC-32C
 * framed records: stream, boot id, seq, guest ns, host ns, bytes) and a {@code .idx} sparse index
 * beside each (32-byte entries: offset, ordinal, max host time before, max guest time before). See
 * {@code SegmentFormat} and {@code Segment} for the exact layout.
 */
package dev.inferno.kiln.logs;
