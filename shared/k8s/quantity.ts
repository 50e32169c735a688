// Kubernetes resource quantities ("500m", "1.5", "16Gi", "1e3") as plain numbers.

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The quantity's value in base units (cores, bytes, count). Throws on malformed input, naming it. */
export function parseQuantity(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  if (typeof quantity === 'number') return quantity;
  const match = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    quantity.trim(),
  );
  if (!match) throw new Error(`invalid resource quantity "${quantity}"`);
  const [, number, exponent, suffix = ''] = match;
  if (exponent) return Number(number + exponent);
  return Number(number) * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

/** CPU in millicores, rounded up like the scheduler does. */
export const parseMilliCpu = (quantity: string | number | undefined): number =>
  Math.ceil(Math.round(parseQuantity(quantity) * 1e6) / 1e3);

/** Memory (or storage) in bytes. */
export const parseBytes = (quantity: string | number | undefined): number =>
  Math.ceil(parseQuantity(quantity));
