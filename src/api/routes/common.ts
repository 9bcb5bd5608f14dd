import { ErrorRef } from '../schemas.js';
import type { StatusSource, TargetView } from '../../health/views.js';
import type { TargetControl } from '../deps.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import { parseTimeBound } from '../present.js';
import { siteOfLabel } from '../../health/sites.js';

/** Error responses of a route that takes a target name and query values. */
export const targetReadErrors = { 400: ErrorRef, 404: ErrorRef };

/**
 * Error responses of a route that reads a target's history from the database: 503 `store_unavailable` while it
 * cannot answer, with Retry-After when a read ran past its deadline.
 */
export const historyReadErrors = { ...targetReadErrors, 503: ErrorRef };

/** Error responses of a write route (bearer token, rate-limited, body or target checked, a monitor needed). */
export const targetWriteErrors = {
  400: ErrorRef,
  401: ErrorRef,
  404: ErrorRef,
  413: ErrorRef,
  429: ErrorRef,
  503: ErrorRef,
};

/** The configured target by name, or a 404 in the contract shape. */
export function findTarget(status: StatusSource, name: string): TargetView {
  return found(name, status.target(name));
}

/** The target a lookup or a write answered, or a 404 when there is none by that name. */
export function found<T>(name: string, target: T | null | undefined): T {
  if (target === undefined || target === null) throw notFound(`no target named ${JSON.stringify(name)}`);
  return target;
}

/** The monitor's write side, or a 503 when this sstpwatch runs none. */
export function requireControl(control: TargetControl | undefined): TargetControl {
  if (!control) throw new HttpError(503, 'not_available', 'this sstpwatch does not run a monitor (write endpoints are unavailable)');
  return control;
}

/** A `from`/`to` query value: ISO 8601 or Unix ms; a 400 naming the parameter otherwise. */
export function timeBound(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeBound(value);
  if (ms === null) throw badRequest(`${name} must be an ISO 8601 time or Unix milliseconds (got ${JSON.stringify(value)})`);
  return ms;
}

/** A `site` query value as the store names the site (`default` is the unnamed site); undefined: this instance's. */
export function siteParam(value: string | undefined): string | undefined {
  return value === undefined ? undefined : siteOfLabel(value);
}
