/** Does a silence cover an alert of this rule, device and channel at this observed time? */
import type { DeviceInfo } from './scope.ts';
import { matchesChannel, matchesScope } from './scope.ts';
import type { SilenceView } from './store/silences.ts';

export function silenceCovering(silences: SilenceView[], ruleId: string, device: DeviceInfo, channel: string, time: number): SilenceView | null {
  for (const s of silences) {
    if (s.deletedAt) continue;
    if (time < Date.parse(s.startsAt) || time >= Date.parse(s.endsAt)) continue;
    if (s.scope.rules && !s.scope.rules.includes(ruleId)) continue;
    if (!matchesScope(s.scope, device) || !matchesChannel(s.scope, channel)) continue;
    return s;
  }
  return null;
}
