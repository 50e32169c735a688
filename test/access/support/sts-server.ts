// A loopback STS that answers presigned GetCallerIdentity URLs the way EKS's authenticator
// replays them: verifies the SigV4 query signature (independently, see sigv4-verify.ts) including
// the signed x-k8s-aws-id header, then returns the caller's ARN. The 15-minute age limit is the
// EKS side's check (eks-server.ts), as with the real authenticator.
import { type Handler, type LoopbackServer, startLoopbackServer } from './http-server.ts';
import { verifyPresignedUrl } from './sigv4-verify.ts';

export interface TestIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  arn: string;
  account: string;
}

export function stsHandler(identity: TestIdentity): Handler {
  return (req, res) => {
    const fail = (code: string, message: string) =>
      res
        .writeHead(403, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse><Error><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
        );
    const q = req.url.searchParams;
    if (q.get('Action') !== 'GetCallerIdentity')
      return fail('InvalidAction', `unexpected Action ${q.get('Action')}`);
    const accessKeyId = (q.get('X-Amz-Credential') ?? '').split('/')[0];
    if (accessKeyId !== identity.accessKeyId)
      return fail('InvalidClientTokenId', `unknown key ${accessKeyId}`);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    const check = verifyPresignedUrl(req.url, headers, identity.secretAccessKey);
    if (!check.ok) return fail('SignatureDoesNotMatch', `expected ${check.expected}`);
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${identity.arn}</Arn><UserId>${identity.accessKeyId}</UserId><Account>${identity.account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
  };
}

export function startTestSts(identity: TestIdentity): Promise<LoopbackServer> {
  return startLoopbackServer(stsHandler(identity));
}
