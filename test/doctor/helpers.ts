import { expect } from 'vitest';
import { runDoctor, type CheckResult, type DoctorOptions, type DoctorReport } from '../../src/doctor/index.js';

// Doctor runs with no ambient credentials (no ~/.docker of the machine running
// the tests): an empty environment and a home directory that does not exist.

export const NO_HOME = '/nonexistent/ferry-doctor-home';

export function doctor(opts: DoctorOptions): Promise<DoctorReport> {
  return runDoctor({ env: {}, homeDir: NO_HOME, timeoutMs: 5_000, ...opts });
}

export function check(report: DoctorReport, name: CheckResult['name']): CheckResult {
  const found = report.checks.find((c) => c.name === name);
  expect(found, `no ${name} check in the report`).toBeDefined();
  return found as CheckResult;
}

/** Status of every check, by name: compact to assert and readable when it fails. */
export function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

/** The environment for a CLI run with no ambient credentials. */
export const CLI_ENV: Record<string, string> = {
  HOME: NO_HOME,
  DOCKER_CONFIG: `${NO_HOME}/.docker`,
  XDG_CONFIG_HOME: `${NO_HOME}/.config`,
  XDG_RUNTIME_DIR: `${NO_HOME}/run`,
  REGISTRY_AUTH_FILE: '',
};
