/**
 * Decoder registry (Telegraf's plugin registry): names to decoders. Format folders register
 * here and never import each other.
 */
import type { Decoder } from '../decoder.ts';
import { createChirpstackV4Decoder, type ChirpstackV4Options } from './chirpstack-v4/index.ts';
import { nativeDecoder } from './native/index.ts';
import { createNgsiDecoder, type NgsiOptions } from './ngsi/index.ts';
import { createSenmlDecoder } from './senml/index.ts';
import { createSparkplugDecoder, type SparkplugOptions } from './sparkplug-b/index.ts';
import { createTtnV3Decoder, type TtnV3Options } from './ttn-v3/index.ts';

/** Per-format options, each validated by its decoder's own zod schema. */
export interface DecoderOptions {
  'ttn-v3'?: TtnV3Options;
  'chirpstack-v4'?: ChirpstackV4Options;
  'sparkplug-b'?: SparkplugOptions;
  ngsi?: NgsiOptions;
}

export function builtinDecoders(options: DecoderOptions = {}): Decoder[] {
  return [
    nativeDecoder,
    createTtnV3Decoder(options['ttn-v3']),
    createChirpstackV4Decoder(options['chirpstack-v4']),
    createSenmlDecoder(),
    createSparkplugDecoder(options['sparkplug-b']),
    createNgsiDecoder(options.ngsi),
  ];
}

export class DecoderRegistry {
  private readonly byName = new Map<string, Decoder>();

  constructor(decoders: Decoder[] = builtinDecoders()) {
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
