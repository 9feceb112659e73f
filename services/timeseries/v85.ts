/**
 * V85 ("vitesse pratiquée"): the speed below which 85 % of light vehicles (VL) in free flow drive.
 * Sétra/CETE, note d'information "La vitesse pratiquée ou V85 : formules de calcul" (June 2008):
 * "La vitesse V85 définit la vitesse en dessous de laquelle circulent 85 % des VL libres (non
 * contraints par la circulation des autres véhicules)". A V85 therefore needs the speed of each
 * vehicle, or counts per speed class; the 85th percentile of per-period MEAN speeds is not one.
 *
 * Free flow, as Vigie applies it (tunable defaults; the Sétra text defines "VL libres" as not
 * constrained by other vehicles without fixing the measurement threshold):
 * - individual vehicle records: a light vehicle (vehicle_heavy = 0) whose headway to the vehicle
 *   ahead in its lane is at least FREE_FLOW_MIN_HEADWAY_S; records without a class or a headway
 *   cannot be shown to be free light vehicles and are left out (and counted);
 * - speed-class counts (a period's light vehicles per class): periods whose lane occupancy is
 *   below FREE_FLOW_MAX_OCCUPANCY (the congestion threshold of rules/roads.yaml); periods
 *   without an occupancy reading cannot be shown to be free-flowing and are left out (counted).
 *
 * Percentiles:
 * - from individual speeds (in SQL, services/timeseries/traffic.ts): the smallest observed speed
 *   v with at least 85 % of the speeds <= v, i.e. the speed of rank r, the first r with
 *   100 r >= 85 n (percentile_disc(0.85), in integer arithmetic so 85 % of 20 is exactly 17);
 * - from classes (v85FromClasses below, tested by test/timeseries/v85.test.ts):
 *   linear interpolation inside the class holding the 85th percentile, assuming
 *   speeds spread evenly inside a class (the usual rule for grouped data):
 *   V85 = L + (0.85 N - F) / f x (U - L), with L and U the class bounds, N all counted vehicles,
 *   F those of the classes below, f those of the class. When that class is the open top class
 *   (">= 130 km/h"), there is no upper bound to interpolate to: V85 is only known to be >= L.
 */

/** Headway (s) at or above which a vehicle is taken as free (not following another). */
export const FREE_FLOW_MIN_HEADWAY_S = 5;
/** Occupancy (%) below which a period is taken as free-flowing (congestion needs more than 15 %). */
export const FREE_FLOW_MAX_OCCUPANCY = 15;

/** 85 %, kept as a whole percentage so ranks are exact integer arithmetic (100 x rank >= 85 x n). */
export const V85_PERCENT = 85;

export interface SpeedClassCount {
  /** Lower bound, km/h (inclusive). */
  from: number;
  /** Upper bound, km/h (exclusive); null for the open top class. */
  to: number | null;
  count: number;
}

export type ClassV85 = { kmh: number; atLeastKmh?: undefined } | { kmh: null; atLeastKmh: number } | null;

/** V85 interpolated inside its class; `atLeastKmh` when it falls in the open top class; null for no vehicle. */
export function v85FromClasses(classes: readonly SpeedClassCount[]): ClassV85 {
  const sorted = [...classes].filter((c) => c.count > 0).sort((a, b) => a.from - b.from);
  const total = sorted.reduce((s, c) => s + c.count, 0);
  if (total === 0) return null;
  const target = (V85_PERCENT * total) / 100;
  let below = 0;
  for (const c of sorted) {
    if (100 * (below + c.count) >= V85_PERCENT * total) {
      if (c.to === null) return { kmh: null, atLeastKmh: c.from };
      return { kmh: c.from + ((target - below) / c.count) * (c.to - c.from) };
    }
    below += c.count;
  }
  return null; // unreachable: the last class reaches the total
}
