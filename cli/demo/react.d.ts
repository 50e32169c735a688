// The few React APIs the live view uses (the project has no @types/react; ink brings React itself).
declare module 'react' {
  export type ReactNode = unknown;
  export function createElement(
    type: unknown,
    props?: Record<string, unknown> | null,
    ...children: unknown[]
  ): ReactNode;
  export function useState<T>(initial: T): [T, (next: T) => void];
  export function useEffect(effect: () => undefined | (() => void), deps?: unknown[]): void;
}
