// placeholder replaced below
export async function runKubectlBaseline(..._args: unknown[]): Promise<undefined> {
  return undefined;
}
