// Validates a CloudFormation template offline against the CloudFormation resource specification
// shipped in @aws-cdk/aws-service-spec (the database the AWS CDK generates its L1 classes from):
// resource types exist, property names are known, required properties are present, values have
// the right shape (recursively through property types), allowed values are respected, and every
// Ref / Fn::GetAtt / Fn::Sub / Condition / DependsOn points at something that exists.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';

type PropertyType =
  | { type: 'string'; allowedValues?: string[] }
  | { type: 'number' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'integer'; allowedValues?: number[] }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: PropertyType }
  | { type: 'union'; types: PropertyType[] };

interface PropertySpec {
  type: PropertyType;
  required?: boolean;
}

export interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  [key: string]: unknown;
}

const TEMPLATE_KEYS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Rules',
]);
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

let database: Promise<SpecDatabase> | undefined;
const loadSpec = () => {
  database ??= loadAwsServiceSpec();
  return database;
};

class Validator {
  readonly problems: string[] = [];
  private readonly db: SpecDatabase;
  private readonly template: Template;

  constructor(db: SpecDatabase, template: Template) {
    this.db = db;
    this.template = template;
  }

  resourceSpec(type: string) {
    return this.db.lookup('resource', 'cloudFormationType', 'equals', type)[0];
  }

  run(): string[] {
    for (const key of Object.keys(this.template)) {
      if (!TEMPLATE_KEYS.has(key)) this.problems.push(`template: unknown top-level section ${key}`);
    }
    for (const [id, resource] of Object.entries(this.template.Resources ?? {})) this.resource(id, resource);
    for (const [id, output] of Object.entries(this.template.Outputs ?? {})) {
      this.value(`Outputs.${id}`, output, { type: 'json' });
    }
    for (const [id, condition] of Object.entries(this.template.Conditions ?? {})) {
      this.value(`Conditions.${id}`, condition, { type: 'json' });
    }
    return this.problems;
  }

  private resource(id: string, resource: Resource): void {
    const where = `Resources.${id}`;
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) this.problems.push(`${where}: unknown resource attribute ${key}`);
    }
    const spec = this.resourceSpec(resource.Type);
    if (!spec) {
      this.problems.push(`${where}: resource type ${resource.Type} does not exist`);
      return;
    }
    for (const dep of [resource.DependsOn ?? []].flat()) {
      if (!this.template.Resources[dep]) this.problems.push(`${where}: DependsOn ${dep} is not a resource`);
    }
    if (resource.Condition !== undefined && !this.template.Conditions?.[resource.Condition]) {
      this.problems.push(`${where}: Condition ${resource.Condition} is not defined`);
    }
    this.properties(
      `${where}.Properties`,
      resource.Properties ?? {},
      spec.properties as Record<string, PropertySpec>,
    );
  }

  private properties(where: string, value: unknown, specs: Record<string, PropertySpec>): void {
    if (this.intrinsic(where, value)) return;
    if (!isObject(value)) {
      this.problems.push(`${where}: expected an object, got ${describe(value)}`);
      return;
    }
    for (const [name, v] of Object.entries(value)) {
      const spec = specs[name];
      if (!spec)
        this.problems.push(`${where}.${name}: unknown property (known: ${Object.keys(specs).join(', ')})`);
      else this.value(`${where}.${name}`, v, spec.type);
    }
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.required && !(name in value))
        this.problems.push(`${where}: required property ${name} is missing`);
    }
  }

  private value(where: string, value: unknown, type: PropertyType): void {
    if (this.intrinsic(where, value)) return;
    switch (type.type) {
      case 'string':
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          this.problems.push(`${where}: expected a string, got ${describe(value)}`);
        } else if (type.allowedValues?.length && !type.allowedValues.includes(String(value))) {
          this.problems.push(
            `${where}: ${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`,
          );
        }
        return;
      case 'number':
      case 'integer':
        if (!(typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)))) {
          this.problems.push(`${where}: expected a number, got ${describe(value)}`);
        } else if (type.type === 'integer' && !Number.isInteger(Number(value))) {
          this.problems.push(`${where}: expected an integer, got ${value}`);
        }
        return;
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') {
          this.problems.push(`${where}: expected a boolean, got ${describe(value)}`);
        }
        return;
      case 'json':
        this.walkIntrinsics(where, value);
        return;
      case 'date-time':
        if (typeof value !== 'string') this.problems.push(`${where}: expected a date-time string`);
        return;
      case 'null':
        return;
      case 'tag':
        this.properties(where, value, {
          Key: { type: { type: 'string' }, required: true },
          Value: { type: { type: 'string' }, required: true },
        });
        return;
      case 'array':
        if (!Array.isArray(value)) this.problems.push(`${where}: expected a list, got ${describe(value)}`);
        else
          value.forEach((v, i) => {
            this.value(`${where}[${i}]`, v, type.element);
          });
        return;
      case 'map':
        if (!isObject(value)) this.problems.push(`${where}: expected a map, got ${describe(value)}`);
        else for (const [k, v] of Object.entries(value)) this.value(`${where}.${k}`, v, type.element);
        return;
      case 'ref': {
        const def = this.db.get('typeDefinition', type.reference.$ref);
        this.properties(where, value, def.properties as Record<string, PropertySpec>);
        return;
      }
      case 'union': {
        // valid if any member type accepts it; otherwise report the closest (fewest problems)
        const attempts = type.types.map((t) => {
          const sub = new Validator(this.db, this.template);
          sub.value(where, value, t);
          return sub.problems;
        });
        if (attempts.every((p) => p.length > 0)) {
          this.problems.push(...attempts.reduce((a, b) => (b.length < a.length ? b : a)));
        }
        return;
      }
    }
  }

  /** Checks an intrinsic function's references; true when `value` is one (any type accepts it). */
  private intrinsic(where: string, value: unknown): boolean {
    if (!isObject(value)) return false;
    const keys = Object.keys(value);
    if (keys.length !== 1) return false;
    const fn = keys[0]!;
    if (fn !== 'Ref' && fn !== 'Condition' && !fn.startsWith('Fn::')) return false;
    const arg = value[fn];
    const resources = this.template.Resources;
    if (fn === 'Ref') {
      const ok =
        typeof arg === 'string' &&
        (resources[arg] !== undefined ||
          this.template.Parameters?.[arg] !== undefined ||
          PSEUDO_PARAMETERS.has(arg));
      if (!ok)
        this.problems.push(
          `${where}: Ref ${JSON.stringify(arg)} is not a resource, parameter or pseudo parameter`,
        );
    } else if (fn === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
      this.getAtt(where, String(id), String(attr));
    } else if (fn === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
      for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = m[1]!;
        if (isObject(vars) && name in vars) continue;
        if (PSEUDO_PARAMETERS.has(name) || resources[name] || this.template.Parameters?.[name]) continue;
        const [id, attr] = name.split(/\.(.*)/);
        if (attr) this.getAtt(where, id!, attr);
        else this.problems.push(`${where}: Fn::Sub \${${name}} names nothing in the template`);
      }
      if (isObject(vars)) this.walkIntrinsics(where, vars);
    } else if (fn === 'Fn::If' || fn === 'Condition') {
      const name = Array.isArray(arg) ? arg[0] : arg;
      if (!this.template.Conditions?.[String(name)])
        this.problems.push(`${where}: condition ${name} is not defined`);
      if (Array.isArray(arg)) this.walkIntrinsics(where, arg.slice(1));
    } else {
      this.walkIntrinsics(where, arg);
    }
    return true;
  }

  private getAtt(where: string, id: string, attr: string): void {
    const target = this.template.Resources[id];
    if (!target) {
      this.problems.push(`${where}: Fn::GetAtt target ${id} is not a resource`);
      return;
    }
    const spec = this.resourceSpec(target.Type);
    if (spec && !(attr in spec.attributes)) {
      this.problems.push(
        `${where}: ${target.Type} has no attribute ${attr} (has ${Object.keys(spec.attributes).join(', ')})`,
      );
    }
  }

  /** Inside JSON-typed values (policies, patterns) only the intrinsics are checked. */
  private walkIntrinsics(where: string, value: unknown): void {
    if (this.intrinsic(where, value)) return;
    if (Array.isArray(value))
      value.forEach((v, i) => {
        this.walkIntrinsics(`${where}[${i}]`, v);
      });
    else if (isObject(value))
      for (const [k, v] of Object.entries(value)) this.walkIntrinsics(`${where}.${k}`, v);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return Array.isArray(v)
    ? 'a list'
    : v === null
      ? 'null'
      : typeof v === 'object'
        ? 'an object'
        : JSON.stringify(v);
}

/** Every problem found in the template, each naming the path and what is wrong; [] when valid. */
export async function validateTemplate(template: Template): Promise<string[]> {
  return new Validator(await loadSpec(), template).run();
}

/** The resource specification's entry for a type (undefined when the type does not exist). */
export async function resourceTypeExists(type: string): Promise<boolean> {
  const db = await loadSpec();
  return db.lookup('resource', 'cloudFormationType', 'equals', type).length > 0;
}
