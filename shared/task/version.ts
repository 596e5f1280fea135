// The version both front ends report (`version`, `--version`, the runner image tag, the app.kubernetes.io/version label).
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
