// Pieces the benchmarks share.

/** Median of the runs (upper median for an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The pod template of the drain benchmarks' Deployments (same on the simulator and the real server). */
export const podTemplate = (app: string) => ({
  metadata: { labels: { app } },
  spec: {
    terminationGracePeriodSeconds: 5,
    containers: [
      {
        name: 'main',
        image: 'public.ecr.aws/nginx/nginx:1.27',
        resources: { requests: { cpu: '10m', memory: '16Mi' } },
      },
    ],
  },
});
