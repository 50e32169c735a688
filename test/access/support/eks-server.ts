// A loopback "AWS" for the EKS access path: EKS DescribeCluster (REST-JSON, GET /clusters/<name>)
// and STS GetCallerIdentity on one endpoint, like a single AWS_ENDPOINT_URL; plus the check an
// EKS API server makes of a bearer token (replay the presigned URL to STS).
import { decodeEksToken, EKS_TOKEN_PREFIX } from '../../../shared/k8s/eks-token.ts';
import { type LoopbackServer, startLoopbackServer } from './http-server.ts';
import { stsHandler, type TestIdentity } from './sts-server.ts';

export interface TestCluster {
  name: string;
  endpoint: string;
  caData?: string;
}

export interface TestAws extends LoopbackServer {
  clusters: TestCluster[];
  describeClusterCalls(): number;
}

export async function startTestAws(identity: TestIdentity): Promise<TestAws> {
  const clusters: TestCluster[] = [];
  const sts = stsHandler(identity);
  const server = await startLoopbackServer((req, res) => {
    const match = /^\/clusters\/([^/]+)$/.exec(req.url.pathname);
    if (!match) return sts(req, res);
    const cluster = clusters.find((c) => c.name === decodeURIComponent(match[1]!));
    if (!cluster) {
      return res
        .writeHead(404, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'ResourceNotFoundException',
        })
        .end(JSON.stringify({ message: `No cluster found for name: ${match[1]}.` }));
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        cluster: {
          name: cluster.name,
          arn: `arn:aws:eks:eu-west-1:${identity.account}:cluster/${cluster.name}`,
          endpoint: cluster.endpoint,
          status: 'ACTIVE',
          ...(cluster.caData ? { certificateAuthority: { data: cluster.caData } } : {}),
        },
      }),
    );
  });
  return {
    ...server,
    clusters,
    describeClusterCalls: () => server.requests.filter((r) => r.url.pathname.startsWith('/clusters/')).length,
  };
}

/**
 * What the EKS API server does with `Authorization: Bearer k8s-aws-v1.…`: reject tokens older than
 * 15 minutes, then replay the URL to STS with the cluster header and accept on 200.
 */
export function eksTokenCheck(clusterName: string, now: () => Date = () => new Date()) {
  return async (authorization: string | undefined): Promise<boolean> => {
    const token = authorization?.replace(/^Bearer /, '') ?? '';
    if (!token.startsWith(EKS_TOKEN_PREFIX)) return false;
    const url = decodeEksToken(token);
    const d = url.searchParams.get('X-Amz-Date') ?? '';
    const signedAt = Date.parse(
      `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
    );
    if (now().getTime() - signedAt > 15 * 60_000) return false;
    const res = await fetch(url, { headers: { 'x-k8s-aws-id': clusterName } });
    return res.status === 200;
  };
}
