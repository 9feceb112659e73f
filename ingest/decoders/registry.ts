/**
 * Decoder registry (Telegraf's plugin registry): names to decoders. Format folders register
 * here and never import each other.
 */
import type { Decoder } from '../decoder.ts';
import { nativeDecoder } from './native/index.ts';

const builtin: Decoder[] = [nativeDecoder];

export class DecoderRegistry {
  private readonly byName = new Map<string, Decoder>();

  constructor(decoders: Decoder[] = builtin) {
    for (const d of decoders) this.register(d);
  }

  register(decoder: Decoder): void {
    if (this.byName.has(decoder.name)) throw new Error(`decoder ${decoder.name} registered twice`);
    this.byName.set(decoder.name, decoder);
  }

  get(name: string): Decoder | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
