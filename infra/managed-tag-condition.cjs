// IAM condition limiting Auto Scaling mutations to groups carrying the managed tag.
// serverless.yml: `Condition: ${file(./infra/managed-tag-condition.cjs)}`. A JS resolver because the
// condition KEY contains the tag key param, and neither osls nor CloudFormation resolve map keys.
'use strict';

const TAG_KEY = /^[\w.:/=+\-@]{1,128}$/;

module.exports = async ({ resolveVariable }) => {
  const key = await resolveVariable('param:managedTagKey');
  const value = await resolveVariable('param:managedTagValue');
  if (typeof key !== 'string' || !TAG_KEY.test(key)) {
    throw new Error(
      `param managedTagKey must be a tag key (1-128 of letters, digits, . : / = + - @ _), got ${JSON.stringify(key)}`,
    );
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`param managedTagValue must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return { StringEquals: { [`aws:ResourceTag/${key}`]: value } };
};
