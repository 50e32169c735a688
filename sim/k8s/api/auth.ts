// Authentication as the simulator checks it: any bearer token (or none) is accepted, except that an
// EKS token (`k8s-aws-v1.` + unpadded base64url of a presigned STS GetCallerIdentity URL) must be
// well formed and unexpired — so a wrong EKS token wiring fails here as it would on EKS.
import { stringify } from 'yaml';

/** EKS tokens are valid for 15 minutes from X-Amz-Date. */
const EKS_TOKEN_LIFETIME_MS = 15 * 60 * 1000;

/** Why an EKS token is rejected, or undefined when it is acceptable. */
export function eksTokenProblem(token: string, now = Date.now()): string | undefined {
  const encoded = token.slice('k8s-aws-v1.'.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return 'token is not unpadded base64url';
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return 'token does not decode to a URL';
  }
  const q = url.searchParams;
  if (q.get('Action') !== 'GetCallerIdentity') return 'presigned URL is not an STS GetCallerIdentity call';
  if (!q.get('X-Amz-Signature')) return 'presigned URL has no X-Amz-Signature';
  const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signed.includes('x-k8s-aws-id')) return 'x-k8s-aws-id is not a signed header';
  // temporary credentials (ASIA…, as in Lambda) only verify with their session token in the URL
  const accessKeyId = (q.get('X-Amz-Credential') ?? '').split('/')[0] ?? '';
  if (accessKeyId.startsWith('ASIA') && !q.get('X-Amz-Security-Token')) {
    return 'temporary credentials without X-Amz-Security-Token';
  }
  const date = q.get('X-Amz-Date');
  const match = date ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date) : null;
  if (!match) return 'presigned URL has no valid X-Amz-Date';
  const signedAt = Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!);
  if (now > signedAt + EKS_TOKEN_LIFETIME_MS) return 'token expired';
  return undefined;
}

/** undefined = accepted; otherwise the reason for a 401. */
export function authenticate(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (!match) return undefined;
  const token = match[1]!;
  return token.startsWith('k8s-aws-v1.') ? eksTokenProblem(token) : undefined;
}

/** A kubeconfig for the simulated cluster (user token 'sim-admin' unless given). */
export function kubeconfigYaml(url: string, opts: { clusterName?: string; token?: string } = {}): string {
  const cluster = opts.clusterName ?? 'spotguard-sim';
  const user = `${cluster}-admin`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http unless TLS verification is off; kubectl ignores the flag for http
    clusters: [
      { name: cluster, cluster: { server: url, 'insecure-skip-tls-verify': url.startsWith('http:') } },
    ],
    users: [{ name: user, user: { token: opts.token ?? 'sim-admin' } }],
    contexts: [{ name: cluster, context: { cluster, user } }],
    'current-context': cluster,
    preferences: {},
  });
}
