// Who asked for a manual action. Lambda's Invoke does not tell the function who called it, so the
// caller proves it the aws-iam-authenticator way: a presigned STS GetCallerIdentity URL (as a
// k8s-aws-v1. token, signed header x-k8s-aws-id: spotguard-manual, which EKS would refuse as a
// cluster token) that the function replays against STS. Without one the principal is recorded
// as unverified, next to the free-text requestedBy.
import { decodeEksToken, regionalStsEndpoint } from '../k8s/eks-token.ts';

export const MANUAL_IDENTITY_AUDIENCE = 'spotguard-manual';

export interface Caller {
  principal: string;
  verified: boolean;
}

/** The STS endpoints a token may point at: the regional one, or the configured override (simulator). */
function allowedHosts(region: string): string[] {
  const hosts = [new URL(regionalStsEndpoint(region)).host, 'sts.amazonaws.com'];
  const override = process.env.AWS_ENDPOINT_URL_STS ?? process.env.AWS_ENDPOINT_URL;
  if (override) hosts.push(new URL(override).host);
  return hosts;
}

export async function verifyCaller(
  token: string | undefined,
  region: string,
  requestedBy?: string,
): Promise<Caller> {
  const claimed = requestedBy ? ` (requestedBy: ${requestedBy})` : '';
  if (!token) return { principal: `unverified: no identity token${claimed}`, verified: false };
  let url: URL;
  try {
    url = decodeEksToken(token);
  } catch {
    throw new Error('identityToken: not a k8s-aws-v1. token');
  }
  // Only STS, only GetCallerIdentity: the function never fetches a URL a caller chose.
  if (!allowedHosts(region).includes(url.host) || url.searchParams.get('Action') !== 'GetCallerIdentity') {
    throw new Error(`identityToken: must be a presigned STS GetCallerIdentity URL, got host ${url.host}`);
  }
  const res = await fetch(url, {
    headers: { 'x-k8s-aws-id': MANUAL_IDENTITY_AUDIENCE },
    signal: AbortSignal.timeout(3000),
  });
  const body = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
  if (!res.ok || !arn) throw new Error(`identityToken: STS refused it (HTTP ${res.status})`);
  return { principal: arn, verified: true };
}
