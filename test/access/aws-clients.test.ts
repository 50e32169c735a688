import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { awsClients, createAwsClients, resetAwsClients } from '../../shared/aws/clients.ts';
import { useTestAwsEnv } from './support/aws-env.ts';
import { type LoopbackServer, startLoopbackServer } from './support/http-server.ts';

const emptyDescribe =
  '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>';

describe('awsClients', () => {
  let server: LoopbackServer;
  let failuresLeft = 0;
  beforeAll(async () => {
    useTestAwsEnv('eu-west-1');
    server = await startLoopbackServer((req, res) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        return res
          .writeHead(503, { 'content-type': 'text/xml' })
          .end(
            '<Response><Errors><Error><Code>Unavailable</Code><Message>try later</Message></Error></Errors></Response>',
          );
      }
      const action = new URLSearchParams(req.body).get('Action');
      if (action === 'GetCallerIdentity') {
        return res
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/t</Arn><Account>1</Account><UserId>u</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>',
          );
      }
      res.writeHead(200, { 'content-type': 'text/xml' }).end(emptyDescribe);
    });
  });
  afterEach(() => {
    resetAwsClients();
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_EC2;
    delete process.env.SPOTGUARD_AWS_MAX_ATTEMPTS;
    failuresLeft = 0;
    server.requests.length = 0;
  });
  afterAll(() => server.close());

  it('sends to AWS_ENDPOINT_URL without any code of ours reading it (the SDK does)', async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    const { ec2, sts } = awsClients();
    await ec2.send(new DescribeInstancesCommand({}));
    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe('arn:aws:iam::1:user/t');
    expect(server.requests.map((r) => new URLSearchParams(r.body).get('Action'))).toEqual([
      'DescribeInstances',
      'GetCallerIdentity',
    ]);
    // Signed for the configured region and the right service.
    expect(server.requests[0]!.headers.authorization).toMatch(/\/eu-west-1\/ec2\/aws4_request/);
  });

  it('honours the per-service AWS_ENDPOINT_URL_EC2', async () => {
    process.env.AWS_ENDPOINT_URL_EC2 = server.url;
    await awsClients().ec2.send(new DescribeInstancesCommand({}));
    expect(server.requests).toHaveLength(1);
  });

  it('caches clients per container and per override', () => {
    expect(awsClients()).toBe(awsClients());
    expect(awsClients({ endpoint: server.url })).toBe(awsClients({ endpoint: server.url }));
    expect(awsClients({ endpoint: server.url })).not.toBe(awsClients());
    expect(awsClients({ region: 'us-east-1' }).region).toBe('us-east-1');
  });

  it('retries a 503 and succeeds within maxAttempts', async () => {
    failuresLeft = 2;
    await awsClients({ endpoint: server.url, maxAttempts: 3 }).ec2.send(new DescribeInstancesCommand({}));
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after SPOTGUARD_AWS_MAX_ATTEMPTS', async () => {
    process.env.SPOTGUARD_AWS_MAX_ATTEMPTS = '2';
    failuresLeft = 5;
    await expect(
      awsClients({ endpoint: server.url }).ec2.send(new DescribeInstancesCommand({})),
    ).rejects.toThrow(/try later|Unavailable/);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up on an endpoint that never answers (request timeout applied to the handler)', async () => {
    const silent = await startLoopbackServer(() => new Promise(() => {}));
    try {
      const { ec2 } = createAwsClients({ endpoint: silent.url, maxAttempts: 1, requestTimeoutMs: 200 });
      await expect(ec2.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(silent.requests).toHaveLength(1);
    } finally {
      await silent.close();
    }
  });

  it('names a bad SPOTGUARD_AWS_MAX_ATTEMPTS and a missing region', () => {
    process.env.SPOTGUARD_AWS_MAX_ATTEMPTS = 'lots';
    expect(() => createAwsClients({ region: 'eu-west-1' })).toThrow(/SPOTGUARD_AWS_MAX_ATTEMPTS.*"lots"/);
    delete process.env.SPOTGUARD_AWS_MAX_ATTEMPTS;
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      expect(() => createAwsClients()).toThrow(/AWS_REGION/);
    } finally {
      process.env.AWS_REGION = saved;
    }
  });
});
