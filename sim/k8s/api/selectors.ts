// Label and field selectors with kube-apiserver's grammar and error messages.
import type { KObject } from '../store.ts';
import { badRequest } from './errors.ts';
import { labelValueErrors, qualifiedNameErrors } from './validation.ts';

export type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

// ---- label selector grammar: a port of k8s.io/apimachinery/pkg/labels/selector.go (Lexer, Parser,
// NewRequirement), so that every parse error carries the real server's wording ----

type Token =
  | 'error'
  | 'end'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'identifier'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

const LITERAL_TOKENS: ReadonlyMap<string, Token> = new Map<string, Token>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

interface ScannedItem {
  tok: Token;
  literal: string;
}

const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string) => '=!(),><'.includes(ch) && ch.length === 1;

/** Lexer.Lex over the whole input (Parser.scan): the last item is always `end`. */
function scan(text: string): ScannedItem[] {
  let pos = 0;
  const read = () => (pos < text.length ? text[pos++]! : '');
  const items: ScannedItem[] = [];
  for (;;) {
    let ch = read();
    while (ch !== '' && isWhitespace(ch)) ch = read();
    let item: ScannedItem;
    if (ch === '') {
      item = { tok: 'end', literal: '' };
    } else if (isSpecialSymbol(ch)) {
      // scanSpecialSymbol: the longest run of symbols that is still a token
      pos--;
      let buffer = '';
      let last: ScannedItem | undefined;
      for (;;) {
        const c = read();
        if (c === '') break;
        if (!isSpecialSymbol(c)) {
          pos--;
          break;
        }
        buffer += c;
        const tok = LITERAL_TOKENS.get(buffer);
        if (tok) last = { tok, literal: buffer };
        else if (last) {
          pos--;
          break;
        }
      }
      item = last ?? { tok: 'error', literal: `error expected: keyword found '${buffer}'` };
    } else {
      // scanIDOrKeyword
      pos--;
      let buffer = '';
      for (;;) {
        const c = read();
        if (c === '') break;
        if (isSpecialSymbol(c) || isWhitespace(c)) {
          pos--;
          break;
        }
        buffer += c;
      }
      item = { tok: LITERAL_TOKENS.get(buffer) ?? 'identifier', literal: buffer };
    }
    items.push(item);
    if (item.tok === 'end') return items;
  }
}

/** A parse error: the message the real server puts in its 400 answer. */
class SelectorError extends Error {}

const fail = (message: string): never => {
  throw new SelectorError(message);
};

class Parser {
  private position = 0;
  private readonly items: ScannedItem[];
  constructor(items: ScannedItem[]) {
    this.items = items;
  }

  /** In the Values context `in` and `notin` are plain identifiers. */
  private static inContext(item: ScannedItem, values: boolean): ScannedItem {
    return values && (item.tok === 'in' || item.tok === 'notin') ? { ...item, tok: 'identifier' } : item;
  }

  lookahead(values = true): ScannedItem {
    return Parser.inContext(this.items[this.position]!, values);
  }

  consume(values = true): ScannedItem {
    return Parser.inContext(this.items[this.position++]!, values);
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, literal } = this.lookahead();
      if (tok === 'end') return requirements;
      if (tok !== 'identifier' && tok !== '!') {
        fail(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (error) {
        if (error instanceof SelectorError) fail(`unable to parse requirement: ${error.message}`);
        throw error;
      }
      const next = this.consume();
      if (next.tok === 'end') return requirements;
      if (next.tok !== ',') fail(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead();
      if (after.tok !== 'identifier' && after.tok !== '!') {
        fail(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, op } = this.parseKeyAndInferOperator();
    if (op === 'exists' || op === '!exists') return newRequirement(key, op, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, [...values].sort());
  }

  private parseKeyAndInferOperator(): { key: string; op?: LabelOp } {
    let op: LabelOp | undefined;
    let item = this.consume();
    if (item.tok === '!') {
      op = '!exists';
      item = this.consume();
    }
    if (item.tok !== 'identifier') fail(`found '${item.literal}', expected: identifier`);
    validateLabelKey(item.literal);
    const next = this.lookahead().tok;
    if ((next === 'end' || next === ',') && op !== '!exists') op = 'exists';
    return op ? { key: item.literal, op } : { key: item.literal };
  }

  private parseOperator(): LabelOp {
    const { tok, literal } = this.consume(false);
    switch (tok) {
      case 'in':
      case 'notin':
      case '!=':
        return tok;
      case '=':
      case '==':
        return '=';
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        return fail(`found '${literal}', expected: '=', '!=', '==', 'in', notin'`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume();
    if (open.tok !== '(') fail(`found '${open.literal}' expected: '('`);
    const { tok, literal } = this.lookahead();
    if (tok === 'identifier' || tok === ',') {
      const values = this.parseIdentifiersList();
      if (this.consume().tok !== ')') fail(`found '${literal}', expected: ')'`);
      return values;
    }
    if (tok === ')') {
      this.consume();
      return new Set(['']);
    }
    return fail(`found '${literal}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { tok, literal } = this.consume();
      if (tok === 'identifier') {
        values.add(literal);
        const next = this.lookahead();
        if (next.tok === ',') continue;
        if (next.tok === ')') return values;
        fail(`found '${next.literal}', expected: ',' or ')'`);
      } else if (tok === ',') {
        if (values.size === 0) values.add(''); // "(,"
        const next = this.lookahead().tok;
        if (next === ')') {
          values.add(''); // ",)"
          return values;
        }
        if (next === ',') {
          this.consume();
          values.add(''); // ",,"
        }
      } else {
        fail(`found '${literal}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead().tok;
    if (next === 'end' || next === ',') return new Set(['']);
    const { tok, literal } = this.consume();
    if (tok === 'identifier') return new Set([literal]);
    return fail(`found '${literal}', expected: identifier`);
  }
}

/** Go's %q for the strings a selector can hold. */
const quoted = (value: string) => JSON.stringify(value);

function validateLabelKey(key: string): void {
  const errs = qualifiedNameErrors(key);
  if (errs.length) fail(`invalid label key ${quoted(key)}: ${errs.join('; ')}`);
}

/** NewRequirement: the checks on the operator's values. */
function newRequirement(key: string, op: LabelOp, values: string[]): LabelRequirement {
  validateLabelKey(key);
  if ((op === 'in' || op === 'notin') && values.length === 0) {
    fail("for 'in', 'notin' operators, values set can't be empty");
  }
  if ((op === '=' || op === '!=') && values.length !== 1) {
    fail('exact-match compatibility requires one single value');
  }
  if (op === 'gt' || op === 'lt') {
    if (values.length !== 1) fail("for 'Gt', 'Lt' operators, exactly one value is required");
    if (!values.every((v) => /^[+-]?\d+$/.test(v) && BigInt.asIntN(64, BigInt(v)) === BigInt(v))) {
      fail("for 'Gt', 'Lt' operators, the value must be an integer");
    }
  }
  for (const value of values) {
    const errs = labelValueErrors(value);
    if (errs.length)
      fail(`invalid label value: ${quoted(value)}: at key: ${quoted(key)}: ${errs.join('; ')}`);
  }
  return { key, op, values };
}

/** Parses `app=web,tier in (a,b),!canary` (labels.Parse). Throws 400 BadRequest like the real server. */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  try {
    return new Parser(scan(text)).parse();
  } catch (error) {
    if (error instanceof SelectorError) throw badRequest(error.message);
    throw error;
  }
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const req of selector) {
    const value = labels?.[req.key];
    const has = value !== undefined;
    switch (req.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case '=':
        if (value !== req.values[0]) return false;
        break;
      case '!=':
        if (value === req.values[0]) return false;
        break;
      case 'in':
        if (!has || !req.values.includes(value)) return false;
        break;
      case 'notin':
        if (has && req.values.includes(value)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has) return false;
        const n = Number(value);
        const bound = Number(req.values[0]);
        if (Number.isNaN(n) || (req.op === 'gt' ? !(n > bound) : !(n < bound))) return false;
        break;
      }
    }
  }
  return true;
}

/** metav1.LabelSelector (matchLabels + matchExpressions), as PDBs and workloads carry it. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** LabelSelectorAsSelector: undefined selects nothing, `{}` selects everything. */
export function selectorFromObject(obj: LabelSelectorObject | undefined | null): LabelSelector | 'nothing' {
  if (!obj) return 'nothing';
  const out: LabelSelector = [];
  for (const [key, value] of Object.entries(obj.matchLabels ?? {}))
    out.push({ key, op: '=', values: [value] });
  const ops = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const;
  for (const expr of obj.matchExpressions ?? []) {
    out.push({ key: expr.key, op: ops[expr.operator], values: expr.values ?? [] });
  }
  return out;
}

export function selects(selector: LabelSelector | 'nothing', obj: KObject): boolean {
  return selector !== 'nothing' && matchesLabels(selector, obj.metadata.labels);
}

// ---- field selectors ----

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = FieldRequirement[];

export function parseFieldSelector(text: string | null | undefined, allowedFields: string[]): FieldSelector {
  if (!text) return [];
  return text
    .split(',')
    .filter((p) => p.trim().length > 0)
    .map((part) => {
      const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
      if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
      const field = m[1]!;
      if (field !== 'metadata.name' && field !== 'metadata.namespace' && !allowedFields.includes(field)) {
        throw badRequest(`field label not supported: ${field}`);
      }
      return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
    });
}

/** Values of unset boolean fields as the registries' field sets report them. */
const FIELD_DEFAULTS: Record<string, string> = { 'spec.unschedulable': 'false', 'spec.hostNetwork': 'false' };

/** The string value a field selector compares, as the registry's *ToSelectableFields would give it. */
export function fieldValue(obj: KObject, field: string): string {
  if (field === 'source') return obj.source?.component ?? '';
  // biome-ignore lint/suspicious/noExplicitAny: walking open-ended wire JSON
  let value: any = obj;
  for (const part of field.split('.')) value = value?.[part];
  if (value === undefined || value === null) return FIELD_DEFAULTS[field] ?? '';
  return String(value);
}

export function matchesFields(selector: FieldSelector, obj: KObject): boolean {
  for (const req of selector) {
    const value = fieldValue(obj, req.field);
    if (req.op === '=' ? value !== req.value : value === req.value) return false;
  }
  return true;
}

/** The value of an `=` requirement on `field`, when there is one (used to hit store indexes). */
export function equalityValue(selector: FieldSelector, field: string): string | undefined {
  return selector.find((r) => r.field === field && r.op === '=')?.value;
}
