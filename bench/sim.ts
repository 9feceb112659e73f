/**
 * `npm run bench:sim`: how fast the simulator generates and publishes, as JSON. A synthetic
 * département of BENCH_SIM_DEVICES devices (default 1000; the target is 10,000 in real time)
 * in the demo's mix of kinds and wire formats, BENCH_SIM_MINUTES simulated minutes (default 30)
 * published as fast as the broker takes it (QoS 1, MQTT_URL, default the machine's Mosquitto).
 * `realtime10k` compares the achieved publish rate with what 10,000 devices at their own
 * periods need, and runs those 10,000 devices in real time for BENCH_SIM_REALTIME_SECONDS
 * (default 20; 0 skips it), reporting how far behind schedule a message ever was. Figures depend on the machine's load: run it on a quiet machine for a reference.
 */
import os from 'node:os';
import type { Device } from '../schemas/index.ts';
import { FleetGenerator } from '../simulators/fleet/generator.ts';
import { loadFleet, runFleet } from '../simulators/fleet/run.ts';

const N = Number(process.env.BENCH_SIM_DEVICES ?? 1000);
const MINUTES = Number(process.env.BENCH_SIM_MINUTES ?? 30);
const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const demo = loadFleet('infra/demo/devices.yaml').filter((d) => d.tags.format !== 'sparkplug-b' && d.tags.format !== 'sparkplug-b-device');

function fleet(n: number): Device[] {
  return Array.from({ length: n }, (_, i) => {
    const d = demo[i % demo.length]!;
    const id = /^[0-9a-f]{16}$/.test(d.id) ? (BigInt(`0x${d.id}`) + BigInt(i)).toString(16).padStart(16, '0') : `${d.id}-b${i}`;
    return { ...d, id };
  });
}

const devices = fleet(N);
const start = Date.now() - (MINUTES + 5) * 60_000;
const perSecond10k = fleet(10_000).reduce((s, d) => s + 1 / (d.periodSeconds ?? 360), 0);

// Generation alone (models and wire encoders, no broker).
const g0 = performance.now();
const gen = new FleetGenerator(devices, { seed: 1, start });
const generated = gen.advance(start + MINUTES * 60_000).length;
const genMs = performance.now() - g0;

// 10,000 devices in real time for a while: does the loop keep up (behindMaxSeconds)?
const RT_SECONDS = Number(process.env.BENCH_SIM_REALTIME_SECONDS ?? 20);
const big = fleet(10_000);
const rt = RT_SECONDS > 0 ? await runFleet({ url, devices: big, topicPrefix: `benchrt${process.pid}/`, seed: 1, durationSeconds: RT_SECONDS, speed: 1, log: () => {}, progress: false }) : undefined;

const r = await runFleet({ url, devices, topicPrefix: `bench${process.pid}/`, seed: 1, start, durationSeconds: MINUTES * 60, speed: Infinity, log: () => {}, progress: false, maxInflight: 1000 });
const publishRate = Math.round((r.published * 1000) / r.wallMs);
process.stdout.write(
  `${JSON.stringify(
    {
      devices: N,
      simulatedMinutes: MINUTES,
      messages: r.published,
      errors: r.errors,
      generateMsgPerSec: Math.round((generated * 1000) / genMs),
      publishMsgPerSec: publishRate,
      realtime10k: {
        neededMsgPerSec: Math.round(perSecond10k * 10) / 10,
        headroom: Math.round((publishRate / perSecond10k) * 10) / 10,
        ...(rt ? { ranSeconds: RT_SECONDS, published: rt.published, errors: rt.errors, behindMaxSeconds: rt.maxLagMs / 1000, modelSetupSeconds: Math.round(rt.setupMs / 100) / 10 } : {}),
      },
      broker: url,
      cpus: os.cpus().length,
      loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    },
    null,
    2,
  )}\n`,
);
