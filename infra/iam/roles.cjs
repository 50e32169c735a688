// One IAM role per function (serverless.yml `resources: - ${file(./infra/iam/roles.cjs)}`), each
// granting exactly the AWS calls its code makes (infra/iam/derive.cjs) plus what Lambda needs to
// run it: its own log group, its own queue (SQS-fed functions), the DLQ of its async invokes
// (EventBridge-invoked functions). Also: an EKS access entry per role, and the manual function's
// resource policy for the principals param manualInvokerArns names.
'use strict';

const { deriveAll } = require('./derive.cjs');
const managedTagCondition = require('../managed-tag-condition.cjs');

const pascal = (s) => s.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
const upperFirst = (s) => s[0].toUpperCase() + s.slice(1);

/** Logical ids, as osls names the function (`<ServerlessName>LambdaFunction`) and as ours are named. */
const roleId = (route) => `${upperFirst(route.serverlessName)}Role`;
const queueId = (route) => `${pascal(route.queue)}Queue`;
/** The DLQ its queue's RedrivePolicy names (infra/queues.yml): lifecycle has its own, the rest share one. */
const dlqId = (route) => (route.queue === 'lifecycle' ? 'LifecycleDlq' : 'EventsDlq');
const arnOf = (id) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/**
 * SQS record bookkeeping (shared/aws/in-flight.ts, dead-letter.ts) only ever runs on records of the
 * function's own queue: a function without a queue never makes those calls, so it is not granted them.
 */
const RECORD_PATH = new Set(['sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
function applicableActions(route, actions) {
  // sqs:GetQueueAttributes (the source queue's RedrivePolicy) is in the OwnQueue statement below.
  const rest = actions.filter((a) => a !== 'sqs:GetQueueAttributes');
  return route.queue ? rest : rest.filter((a) => !RECORD_PATH.has(a));
}

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
const ASG_ARN = {
  'Fn::Sub':
    'arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/*',
};
const TARGET_GROUP_ARN = {
  'Fn::Sub': 'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/*/*',
};
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax

/** Where each derived action may act. Describe/List calls cannot be scoped: AWS requires "*". */
function scopeOf(action, route, ctx) {
  const [service, name] = action.split(':');
  if (action === 'eks:DescribeCluster') {
    return {
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:cluster/${ctx.clusterName}`,
      },
    };
  }
  if (/^(Describe|List)/.test(name)) return { Resource: '*' };
  if (service === 'autoscaling') return { Resource: ASG_ARN, Condition: ctx.managedTag };
  if (action === 'sqs:SendMessage' && route.queue) {
    // A record's last failed receive is dead-lettered with its reason; the lifecycle function also
    // re-queues long drains to its own queue (REQUEUE_QUEUE_URL, continuations).
    const own = route.queue === 'lifecycle' ? [arnOf(queueId(route))] : [];
    return { Resource: [...own, arnOf(dlqId(route))] };
  }
  if (action === 'sqs:GetQueueUrl' && route.queue)
    return { Resource: [arnOf(queueId(route)), arnOf(dlqId(route))] };
  // A record being handled is kept visible-again-soon (crash → retry inside the hook's heartbeat timeout).
  if (action === 'sqs:ChangeMessageVisibility' && route.queue) return { Resource: arnOf(queueId(route)) };
  if (action === 'elasticloadbalancing:DeregisterTargets') {
    // Only target groups the AWS Load Balancer Controller of this cluster tagged (shared/traffic).
    return {
      Resource: TARGET_GROUP_ARN,
      Condition: { StringEquals: { 'aws:ResourceTag/elbv2.k8s.aws/cluster': ctx.clusterName } },
    };
  }
  if (service === 'elasticloadbalancing') return { Resource: TARGET_GROUP_ARN };
  throw new Error(
    `infra/iam/roles.cjs: no resource scope known for ${action} (function ${route.functionName}); add one to scopeOf`,
  );
}

/** The statements of one function's role (pure: tests call it with the derived actions). */
function statementsFor(route, actions, ctx) {
  const byScope = new Map();
  for (const action of applicableActions(route, actions)) {
    const scope = scopeOf(action, route, ctx);
    const key = JSON.stringify(scope);
    byScope.set(key, { scope, actions: [...(byScope.get(key)?.actions ?? []), action] });
  }
  const statements = [...byScope.values()].map(({ scope, actions: a }, i) => ({
    Sid: `Code${i}`,
    Effect: 'Allow',
    Action: a,
    ...scope,
  }));
  const fnName = `${ctx.service}-${ctx.stage}-${route.serverlessName}`;
  statements.push({
    Sid: 'OwnLogGroup',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: {
      'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${fnName}:*`,
    },
  });
  if (route.delivery === 'sqs' && route.queue) {
    statements.push({
      Sid: 'OwnQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      Resource: { 'Fn::GetAtt': [queueId(route), 'Arn'] },
    });
  }
  if (route.delivery === 'direct' && route.detailTypes.length > 0) {
    statements.push({
      Sid: 'AsyncInvokeFailures',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: { 'Fn::GetAtt': ['DirectDlq', 'Arn'] },
    });
  }
  return statements;
}

function roleResource(route, statements) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `spotguard ${route.functionName}: only the calls its code makes (infra/iam/derive.cjs)`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
      Policies: [
        { PolicyName: route.functionName, PolicyDocument: { Version: '2012-10-17', Statement: statements } },
        {
          'Fn::If': [
            'TracingActive',
            {
              PolicyName: `${route.functionName}-xray`,
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
                    Resource: '*',
                  },
                ],
              },
            },
            { Ref: 'AWS::NoValue' },
          ],
        },
      ],
    },
  };
}

const ARN = /^arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@\-/:]+$/;
const ACCOUNT = /^\d{12}$/;

/** `manualInvokerArns`: comma-separated IAM role/user ARNs or account ids; empty = nobody else. */
function manualInvokers(value) {
  const list = String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!ARN.test(p) && !ACCOUNT.test(p)) {
      throw new Error(
        `param manualInvokerArns: ${JSON.stringify(p)} is not an IAM principal ARN or account id`,
      );
    }
  }
  return list;
}

async function build({ resolveVariable }) {
  const ctx = {
    service: await resolveVariable('self:service'),
    stage: await resolveVariable('sls:stage'),
    clusterName: await resolveVariable('param:clusterName'),
    managedTag: await managedTagCondition({ resolveVariable }),
  };
  const derived = await deriveAll();
  const Resources = {};
  const Outputs = {};
  for (const { route, actions } of Object.values(derived)) {
    const id = roleId(route);
    Resources[id] = roleResource(route, statementsFor(route, actions, ctx));
    Resources[`${id}AccessEntry`] = {
      Type: 'AWS::EKS::AccessEntry',
      Properties: {
        ClusterName: ctx.clusterName,
        PrincipalArn: { 'Fn::GetAtt': [id, 'Arn'] },
        Type: 'STANDARD',
        KubernetesGroups: ['spotguard-drainers'],
      },
    };
    Outputs[`${id}Arn`] = {
      Description: `IAM role of ${route.functionName}`,
      Value: { 'Fn::GetAtt': [id, 'Arn'] },
    };
  }
  const invokers = manualInvokers(await resolveVariable('param:manualInvokerArns'));
  invokers.forEach((principal, i) => {
    Resources[`ManualInvokePermission${i}`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['ManualLambdaFunction', 'Arn'] },
        Principal: principal,
      },
    };
  });
  return { Resources, Outputs };
}

module.exports = build;
module.exports.statementsFor = statementsFor;
module.exports.manualInvokers = manualInvokers;
module.exports.roleId = roleId;
module.exports.applicableActions = applicableActions;
