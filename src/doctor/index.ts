// `ferry doctor`: connectivity, TLS, auth, push, redirect and clock checks of one
// registry (design §5, §6). Sits beside transfer: imports core and registry/client.
export { runDoctor, type DoctorOptions, type DoctorReport } from './run-doctor.js';
export { CHECK_ORDER, CheckName, type CheckResult, type CheckStatus } from './check.js';
export { DEFAULT_SPEED_BYTES, SPEED_ROWS, type SpeedReport, type SpeedRow } from './speed-test.js';
