// Names, labels, the image and the limits every object the plugin creates shares.
import { ExitCode, LABEL_MANAGED_BY, MANAGED_BY, VERSION } from '../../shared/task/index.js';

export const APP_NAME = 'crate-decommission';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_VERSION = 'app.kubernetes.io/version';
/** Set by the Job controller on every pod of a Job (Kubernetes >= 1.27). */
export const LABEL_JOB_NAME = 'batch.kubernetes.io/job-name';

/** Labels on everything this project creates. */
export const COMMON_LABELS: Readonly<Record<string, string>> = Object.freeze({
  [LABEL_NAME]: APP_NAME,
  [LABEL_MANAGED_BY]: MANAGED_BY,
});
/** Selects runner pods (Jobs and CronJob-created Jobs alike). */
export const RUNNER_POD_SELECTOR: Readonly<Record<string, string>> = Object.freeze({ [LABEL_NAME]: APP_NAME });

const DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/crate/crate-decommission';
export const DEFAULT_IMAGE = `${DEFAULT_IMAGE_REPOSITORY}:${VERSION}`;
export const DEFAULT_SERVICE_ACCOUNT = 'crate-decommission';
export const RUNNER_CONTAINER = 'runner';
/** uid/gid of distroless' `nonroot` user; the image runs as it. */
export const RUNNER_UID = 65532;
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';

export const DEFAULT_TTL_SECONDS_AFTER_FINISHED = 86_400;
export const DEFAULT_BACKOFF_LIMIT = 3;
/** Runner exit codes after which a retry cannot help: the Job fails at once (podFailurePolicy). */
export const NON_RETRIABLE_EXIT_CODES: readonly number[] = Object.freeze([
  ExitCode.badInput,
  ExitCode.refused,
  ExitCode.locked,
]);
export const CRATEDB_HTTP_PORT = 4200;
export const API_SERVER_PORTS: readonly number[] = Object.freeze([443, 6443]);

export const RUNNER_RESOURCES = Object.freeze({
  requests: Object.freeze({ cpu: '50m', memory: '64Mi' }),
  limits: Object.freeze({ cpu: '500m', memory: '256Mi' }),
});
