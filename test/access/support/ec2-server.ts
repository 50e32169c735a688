// A loopback EC2 Query API speaking DescribeInstances XML the way EC2 does, including the
// all-or-nothing InvalidInstanceID.NotFound error when any requested id is unknown.
import type { ServerResponse } from 'node:http';
import { type LoopbackServer, type RecordedRequest, startLoopbackServer } from './http-server.ts';

export interface TestInstance {
  instanceId: string;
  privateDnsName?: string;
  availabilityZone: string;
  instanceType?: string;
  lifecycle?: 'spot';
  state?: string;
  tags?: Record<string, string>;
}

export interface TestEc2 extends LoopbackServer {
  instances: TestInstance[];
  /** While set, every call fails like a throttled EC2 API. */
  throttled: boolean;
  describeCalls(): RecordedRequest[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const stateCodes: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

function instanceXml(i: TestInstance): string {
  const state = i.state ?? 'running';
  const tags = Object.entries(i.tags ?? {})
    .map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`)
    .join('');
  return (
    `<item><instanceId>${i.instanceId}</instanceId>` +
    `<instanceState><code>${stateCodes[state] ?? 16}</code><name>${state}</name></instanceState>` +
    `<privateDnsName>${esc(i.privateDnsName ?? '')}</privateDnsName>` +
    `<instanceType>${i.instanceType ?? 'm5.large'}</instanceType>` +
    `<placement><availabilityZone>${i.availabilityZone}</availabilityZone></placement>` +
    (i.lifecycle ? `<instanceLifecycle>${i.lifecycle}</instanceLifecycle>` : '') +
    `<tagSet>${tags}</tagSet></item>`
  );
}

function ec2Error(res: ServerResponse, code: string, message: string) {
  res
    .writeHead(400, { 'content-type': 'text/xml' })
    .end(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code>` +
        `<Message>${esc(message)}</Message></Error></Errors><RequestID>test</RequestID></Response>`,
    );
}

export async function startTestEc2(instances: TestInstance[]): Promise<TestEc2> {
  const state = { throttled: false };
  const server = await startLoopbackServer((req, res) => {
    if (state.throttled) return ec2Error(res, 'RequestLimitExceeded', 'Request limit exceeded.');
    const form = new URLSearchParams(req.body);
    if (form.get('Action') !== 'DescribeInstances') {
      return ec2Error(res, 'InvalidAction', `unsupported action ${form.get('Action')}`);
    }
    const ids = [...form.entries()].filter(([k]) => /^InstanceId\.\d+$/.test(k)).map(([, v]) => v);
    const malformed = ids.filter((id) => !/^i-[0-9a-f]{8,17}$/.test(id));
    if (malformed.length) {
      return ec2Error(res, 'InvalidInstanceID.Malformed', `Invalid id: "${malformed[0]}"`);
    }
    const missing = ids.filter((id) => !instances.some((i) => i.instanceId === id));
    if (missing.length) {
      const quoted = missing.map((id) => `'${id}'`).join(', ');
      const message =
        missing.length === 1
          ? `The instance ID ${quoted} does not exist`
          : `The instance IDs ${quoted} do not exist`;
      return ec2Error(res, 'InvalidInstanceID.NotFound', message);
    }
    const found = ids.length ? instances.filter((i) => ids.includes(i.instanceId)) : instances;
    const reservations = found
      .map(
        (i) =>
          `<item><reservationId>r-${i.instanceId.slice(2)}</reservationId><ownerId>111122223333</ownerId><instancesSet>${instanceXml(i)}</instancesSet></item>`,
      )
      .join('');
    res
      .writeHead(200, { 'content-type': 'text/xml' })
      .end(
        `<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
          `<requestId>test</requestId><reservationSet>${reservations}</reservationSet></DescribeInstancesResponse>`,
      );
  });
  return Object.assign(state, {
    ...server,
    instances,
    describeCalls: () =>
      server.requests.filter((r) => new URLSearchParams(r.body).get('Action') === 'DescribeInstances'),
  });
}
