import Type from 'typebox';
import type { StatusSource, TargetView } from '../../health/views.js';
import { badRequest, notFound } from '../errors.js';
import { parseTimeBound } from '../present.js';

/** Error responses of a route that takes a target name and query values. */
export const targetReadErrors = { 400: Type.Ref('ErrorBody'), 404: Type.Ref('ErrorBody') };

/** The configured target by name, or a 404 in the contract shape. */
export function findTarget(status: StatusSource, name: string): TargetView {
  const target = status.target(name);
  if (!target) throw notFound(`no target named ${JSON.stringify(name)}`);
  return target;
}

/** A `from`/`to` query value: ISO 8601 or Unix ms; a 400 naming the parameter otherwise. */
export function timeBound(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeBound(value);
  if (ms === null) throw badRequest(`${name} must be an ISO 8601 time or Unix milliseconds (got ${JSON.stringify(value)})`);
  return ms;
}
