/**
 * A maximum MQTT packet size for the embedded broker. aedes' parser (mqtt-packet) has none and
 * buffers a whole packet before handing it over, so three 200 MB PUBLISHes would hold 600 MB.
 * This reads each packet's fixed header as the bytes pass (MQTT 3.1.1 §2.2.3: the Remaining
 * Length is a variable-length integer of 1 to 4 bytes after the first byte) and closes the
 * connection as soon as a packet announces more than the limit, before its body is buffered.
 * MQTT 3.1.1 has no reason code for this; closing the network connection is what §4.8 asks of
 * a server that meets a protocol violation, and an MQTT 5 server would do the same after a
 * DISCONNECT 0x95 (Packet too large, MQTT 5 §3.14.2.1).
 */
export class PacketSizeScanner {
  /** Bytes of the current packet's body still to skip. */
  private skip = 0;
  /** 0: expecting a first byte; 1..4: inside the Remaining Length. */
  private lengthByte = 0;
  private length = 0;
  private multiplier = 1;

  constructor(private readonly maxRemainingLength: number) {}

  /** Returns the announced size of the first packet over the limit in `chunk`, or 0. */
  scan(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.lengthByte === 0) {
        this.lengthByte = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (this.length > this.maxRemainingLength) return this.length;
      if (byte & 0x80) {
        // A fifth length byte is malformed (§2.2.3); mqtt-packet refuses it itself.
        if (++this.lengthByte > 4) return this.length;
        continue;
      }
      this.lengthByte = 0;
      this.skip = this.length;
    }
    return 0;
  }
}

/** The largest packet the broker takes: the payload limit plus room for the topic and header. */
export function maxPacketBytes(maxPayloadBytes: number): number {
  // Topic: 2-byte length + up to 65,535 bytes (§1.5.3); packet identifier: 2 bytes (§3.3.2.2).
  return maxPayloadBytes + 2 + 65_535 + 2;
}
