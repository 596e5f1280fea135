// Job mode (the default of the operation commands): run a Task as a Kubernetes Job (the runner), follow its pods'
// logs across retries, read the result from the runner's termination message, and exit with the runner's code. Also
// `jobs list|attach|cancel`. Plain functions over the PluginKube port: tests drive them with fakes. One file per job:
export * from './job-mode/target.js'; // the Task's target in the cluster (resolveTarget)
export * from './job-mode/create.js'; // prerequisites, the Job's name, labels and object
export * from './job-mode/status.js'; // what a runner pod and its Job say about themselves
export * from './job-mode/follow.js'; // following the Job's pods
export * from './job-mode/logs.js'; // one pod's log, resumed after breaks
export * from './job-mode/result.js'; // the result and exit code of a finished Job
export * from './job-mode/jobs.js'; // jobs list, jobs cancel
