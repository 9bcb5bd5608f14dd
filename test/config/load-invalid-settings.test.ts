// Invalid probe settings at any level (rise/fall, timeout, interval, schedule, expect_status, path, tls,
// certificates, slow_threshold, check, sstp_interval), each case paired with the exact lines `config check`
// prints. These are the checks shared by defaults, groups and targets, so they are tested together.
import { describe, expect, it } from 'vitest';
import { errorsOf, MINIMAL, withGroupKeys, withServer } from './load-helpers.js';

describe('an invalid config', () => {
  const rows: { case: string; yaml: string; errors: string[] }[] = [
    {
      case: 'certificate thresholds that are not whole days, or an unknown key',
      yaml: `defaults: { certificates: { warn_days: 2.5, critical_days: -1, warn_dyas: 3 } }\n${MINIMAL}`,
      errors: [
        'defaults.certificates.warn_dyas: unknown key (did you mean "warn_days"?)',
        'defaults.certificates.warn_days: must be a whole number of days from 0 to 3650 (got 2.5)',
        'defaults.certificates.critical_days: must be a whole number of days from 0 to 3650 (got -1)',
      ],
    },
    {
      case: 'critical_days beyond warn_days, reported where it is set and not again where it is inherited',
      yaml: withGroupKeys('    certificates: { critical_days: 30 }'),
      errors: ['groups[0].certificates: critical_days (30) must not be more than warn_days (21): a certificate would be critical before it is a warning'],
    },
    {
      case: 'a target lowering warn_days below the inherited critical_days',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", certificates: { warn_days: 5 } }'),
      errors: ['groups[0].servers[0].certificates: critical_days (7) must not be more than warn_days (5): a certificate would be critical before it is a warning'],
    },
    {
      case: 'a slow_threshold that is not a duration',
      yaml: `defaults: { slow_threshold: 1 }\n${MINIMAL}`,
      errors: ['defaults.slow_threshold: must be a duration like "30s", "5m" or "1h30m" (got 1)'],
    },
    {
      case: 'misspelt key, with a suggestion',
      yaml: `defaults: { intervall: 30s, tls: { ca-file: x.pem } }\n${MINIMAL}`,
      errors: [
        'defaults.intervall: unknown key (did you mean "interval"?)',
        'defaults.tls.ca-file: unknown key (did you mean "ca_file"?)',
      ],
    },
    {
      case: 'rise and fall out of range',
      yaml: `defaults: { rise: 0, fall: 101 }\n${MINIMAL}`,
      errors: [
        'defaults.rise: must be a whole number from 1 to 100 (got 0)',
        'defaults.fall: must be a whole number from 1 to 100 (got 101)',
      ],
    },
    {
      case: 'rise written as a string',
      yaml: withGroupKeys('    rise: "2"'),
      errors: ['groups[0].rise: must be a whole number from 1 to 100 (got "2")'],
    },
    {
      case: 'timeout not shorter than the target interval',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", timeout: 40s }'),
      errors: ['groups[0].servers[0]: timeout 40s must be shorter than interval 30s'],
    },
    {
      case: 'timeout against interval reported once, where the conflict is set',
      yaml: `defaults: { interval: 10s }\n${withGroupKeys('    timeout: 10s')}`,
      errors: ['groups[0]: timeout 10s must be shorter than interval 10s'],
    },
    {
      case: 'a 30-day timeout (beyond what a Node.js timer can wait: it would fire after 1 ms)',
      yaml: `defaults: { timeout: 30d, interval: 31d }\n${MINIMAL}`,
      errors: [
        'defaults.interval: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "31d")',
        'defaults.timeout: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "30d")',
      ],
    },
    {
      case: 'an sstp_interval beyond the timer limit',
      yaml: `defaults: { sstp_interval: 4w }\n${MINIMAL}`,
      errors: ['defaults.sstp_interval: must be at most 24d (the longest wait Node.js timers support, about 24.8 days) (got "4w")'],
    },
    {
      case: 'timeout not shorter than the shortest gap of a cron schedule',
      yaml: `defaults: { schedule: "*/10 * * * * *", timeout: 10s }\n${MINIMAL}`,
      errors: ['defaults: timeout 10s must be shorter than the shortest gap between runs of schedule "*/10 * * * * *" (10s)'],
    },
    {
      case: 'timeout against an uneven cron schedule (minutes 0 and 1 of each hour: 1m apart at the shortest)',
      yaml: `defaults: { schedule: "0 0,1 * * * *", timeout: 90s }\n${MINIMAL}`,
      errors: ['defaults: timeout 1m30s must be shorter than the shortest gap between runs of schedule "0 0,1 * * * *" (1m)'],
    },
    {
      case: 'zero timeout',
      yaml: `defaults: { timeout: 0s }\n${MINIMAL}`,
      errors: ['defaults.timeout: must be longer than 0 (got "0s")'],
    },
    {
      case: 'interval below one second',
      yaml: `defaults: { interval: 500ms, timeout: 100ms }\n${MINIMAL}`,
      errors: ['defaults.interval: must be at least 1s (got "500ms")'],
    },
    {
      case: 'duration without a unit',
      yaml: `defaults: { interval: 30 }\n${MINIMAL}`,
      errors: ['defaults.interval: must be a duration like "30s", "5m" or "1h30m" (got 30)'],
    },
    {
      case: 'interval and schedule at one level',
      yaml: withGroupKeys('    interval: 10s\n    schedule: "*/10 * * * * *"'),
      errors: ['groups[0]: set either interval or schedule, not both'],
    },
    {
      case: 'schedule without seconds',
      yaml: `defaults: { schedule: "*/5 * * * *" }\n${MINIMAL}`,
      errors: ['defaults.schedule: must have 6 fields, seconds first, like "*/30 * * * * *" (got "*/5 * * * *")'],
    },
    {
      case: 'schedule with a bad field',
      yaml: `defaults: { schedule: "61 * * * * *" }\n${MINIMAL}`,
      errors: ['defaults.schedule: its second field "61" is not valid (got "61 * * * * *")'],
    },
    {
      case: 'empty expect_status',
      yaml: `defaults: { expect_status: [] }\n${MINIMAL}`,
      errors: ['defaults.expect_status: must be a list of HTTP status codes, like [401] (got [])'],
    },
    {
      case: 'expect_status not a list',
      yaml: `defaults: { expect_status: 401 }\n${MINIMAL}`,
      errors: ['defaults.expect_status: must be a list of HTTP status codes, like [401] (got 401)'],
    },
    {
      case: 'expect_status with an impossible code',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", expect_status: [401, 999] }'),
      errors: ['groups[0].servers[0].expect_status[1]: must be an HTTP status code from 100 to 599 (got 999)'],
    },
    {
      case: 'path without a leading slash',
      yaml: `defaults: { path: "sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/" }\n${MINIMAL}`,
      errors: ['defaults.path: must start with "/" (got "sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/")'],
    },
    {
      case: 'path with a space',
      yaml: `defaults: { path: "/sra x/" }\n${MINIMAL}`,
      errors: ['defaults.path: must not contain spaces or control characters (got "/sra x/")'],
    },
    {
      case: 'tls.verify as a string',
      yaml: `defaults: { tls: { verify: "false" } }\n${MINIMAL}`,
      errors: ['defaults.tls.verify: must be true or false (got "false")'],
    },
    {
      case: 'a check that is neither head nor sstp',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", check: deep }'),
      errors: ['groups[0].servers[0].check: must be "head" (the HEAD health check) or "sstp" (also the deep SSTP handshake check) (got "deep")'],
    },
    {
      case: 'a check given as a boolean',
      yaml: `defaults: { check: true }\n${MINIMAL}`,
      errors: ['defaults.check: must be "head" (the HEAD health check) or "sstp" (also the deep SSTP handshake check) (got true)'],
    },
    {
      case: 'an sstp_interval that is not a duration',
      yaml: withGroupKeys('    sstp_interval: 5'),
      errors: ['groups[0].sstp_interval: must be a duration like "30s", "5m" or "1h30m" (got 5)'],
    },
    {
      case: 'an sstp_interval below one second',
      yaml: withGroupKeys('    sstp_interval: 500ms'),
      errors: ['groups[0].sstp_interval: must be at least 1s (got "500ms")'],
    },
    {
      case: 'a deep check whose timeout is not shorter than sstp_interval, reported where it appears',
      yaml: `allow_fast_sstp_interval: true\n${withGroupKeys('    check: sstp\n    sstp_interval: 5s')}`,
      errors: ['groups[0]: timeout 5s must be shorter than sstp_interval 5s'],
    },
    {
      case: 'a deep check more often than once a minute, not allowed',
      yaml: withGroupKeys('    check: sstp\n    sstp_interval: 30s'),
      errors: [
        'groups[0]: sstp_interval 30s is shorter than 1m: every deep check opens a real SSTP call on the server (a port held, a session started and logged), so this would load production servers; use 1m or more, or set allow_fast_sstp_interval: true at the top of the config for a lab or a test',
      ],
    },
    {
      case: 'allow_fast_sstp_interval given as a string',
      yaml: `allow_fast_sstp_interval: "yes"\n${MINIMAL}`,
      errors: ['allow_fast_sstp_interval: must be true or false (got "yes")'],
    },
    {
      case: 'sstp_interval misspelled',
      yaml: withServer('{ name: rras-eu-1, url: "https://10.0.0.11", sstp_intervall: 5m }'),
      errors: ['groups[0].servers[0].sstp_intervall: unknown key (did you mean "sstp_interval"?)'],
    },
  ];

  it.each(rows)('reports $case', ({ yaml, errors }) => {
    expect(errorsOf(yaml)).toEqual(errors);
  });
});
