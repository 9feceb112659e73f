/**
 * LoRaWAN network-server envelopes as The Things Stack v3 and ChirpStack v4 publish them, with
 * the vendor payload-formatter output of the simulated device inside. Written from the public
 * formats (TTS "Data Formats", ChirpStack "Event types"), not from Vigie's decoders.
 */
import type { Device } from '../../../schemas/index.ts';
import type { NativeMessage } from '../models/index.ts';

export interface WireMessage {
  topic: string;
  payload: string | Buffer;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** What the device's vendor formatter would output, from the model's canonical values. */
export function vendorPayload(device: Device, m: NativeMessage, random: () => number): Record<string, number> {
  const v = m.metrics ?? {};
  switch (device.profile) {
    case 'road-surface': {
      // Tenths of °C, water film in µm, grip in %, NTCIP sentinel 1001 when the probe drops out.
      const dropout = random() < 0.05;
      return {
        t_surf: Math.round((v.surface_temperature ?? 0) * 10),
        t_sub: dropout ? 1001 : Math.round((v.subsurface_temperature ?? 0) * 10),
        t_freeze: Math.round((v.freezing_point ?? 0) * 10),
        film_um: Math.round((v.water_film ?? 0) * 1000),
        state: v.surface_state ?? 3,
        grip: Math.round((v.friction ?? 0.8) * 100),
      };
    }
    case 'pulse-energy-meter':
      return { pulse_1: Math.round((v.energy ?? 0) * 1000), pulse_2: Math.round((v.water_volume ?? 0) * 1000), power_w: Math.round((v.power ?? 0) * 1000), battery: 88 };
    default:
      // Indoor CO2/T/RH sensor formatter: PIR motion count over the period, supply voltage in mV.
      return {
        temperature: v.air_temperature ?? 20,
        humidity: v.relative_humidity ?? 45,
        co2: v.co2 ?? 420,
        light: (v.occupancy_state ?? 0) ? 320 : 5,
        motion: (v.occupancy_state ?? 0) ? 1 + Math.floor(random() * 6) : 0,
        vdd: 3600,
      };
  }
}

function gateways(random: () => number) {
  const rssi = -60 - Math.round(random() * 55);
  return { rssi, snr: r1(10 - (-60 - rssi) / 6) };
}

export function ttnUplink(device: Device, m: NativeMessage, random: () => number, fCnt: number): WireMessage {
  const app = device.tags.application ?? 'vigie-demo';
  const now = new Date(m.ts);
  const { rssi, snr } = gateways(random);
  const uplink: Record<string, unknown> = {
    end_device_ids: { device_id: device.id, application_ids: { application_id: app }, dev_eui: (device.tags.devEui ?? '70B3D57ED0000000').toUpperCase() },
    correlation_ids: [`as:up:${fCnt.toString(36)}`],
    // TTS timestamps carry nanoseconds.
    received_at: `${new Date(now.getTime() + 150).toISOString().slice(0, -1)}123456Z`,
    uplink_message: {
      f_port: 2,
      f_cnt: fCnt,
      frm_payload: Buffer.from(JSON.stringify(m.metrics ?? {})).subarray(0, 12).toString('base64'),
      decoded_payload: vendorPayload(device, m, random),
      // snr 0 would be omitted by TTS: keep that habit.
      rx_metadata: [{ gateway_ids: { gateway_id: 'gw-demo-1' }, rssi, channel_rssi: rssi, ...(snr !== 0 ? { snr } : {}) }],
      received_at: `${new Date(now.getTime() + 100).toISOString().slice(0, -1)}987654Z`,
      consumed_airtime: '0.061696s',
    },
  };
  return { topic: `v3/${app}/devices/${device.id}/up`, payload: JSON.stringify(uplink) };
}

export function chirpstackUplink(device: Device, m: NativeMessage, random: () => number, fCnt: number): WireMessage {
  const app = device.tags.application ?? '0b7e5a3c-1d2f-4e6a-9b8c-7d6e5f4a3b2c';
  const devEui = device.id.toLowerCase();
  const { rssi, snr } = gateways(random);
  const event = {
    deduplicationId: `${fCnt.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    time: m.ts.replace('Z', '+00:00'),
    deviceInfo: {
      tenantName: 'Departement',
      applicationId: app,
      applicationName: 'batiments',
      deviceProfileName: device.profile ?? 'default',
      deviceName: device.name ?? device.id,
      devEui,
      tags: { profile: device.profile ?? 'default', site: device.building?.building ?? device.site ?? '' },
    },
    devAddr: '01ab23cd',
    dr: 5,
    fCnt,
    fPort: 2,
    data: Buffer.from(String(fCnt)).toString('base64'),
    object: vendorPayload(device, m, random),
    rxInfo: [{ gatewayId: '0016c001ff10a235', rssi, snr, crcStatus: 'CRC_OK' }],
  };
  return { topic: `application/${app}/device/${devEui}/event/up`, payload: JSON.stringify(event) };
}
