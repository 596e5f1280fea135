// The HTTP scheme CrateDB serves on port 4200 (dc_util must use the same one: -proto).
import type { V1Container } from '@kubernetes/client-node';
import { tokenizeShell } from './shell.js';

export type HttpScheme = 'http' | 'https';

/** What the manifest says about the scheme CrateDB serves; scheme null = it cannot tell. */
export interface ManifestScheme {
  scheme: HttpScheme | null;
  reason: string;
}

/** CrateDB's config directory in its image; crate.yml there can set ssl.http.enabled. */
const CRATE_CONFIG_DIR = '/crate/config';

/**
 * The scheme CrateDB serves, from the container alone (CrateDB's documented behaviour: with `ssl.http.enabled` the same port
 * speaks HTTPS only). `-Cssl.http.enabled=true|false` on the command line wins over crate.yml; without it CrateDB's
 * default is plain HTTP, unless a crate.yml of the user's own may set it (a volume mounted over the config directory
 * or a crate.yml file, or the setting named in an env value): then the manifest cannot tell.
 */
export function servedSchemeFromManifest(container: V1Container | null): ManifestScheme {
  if (!container) return { scheme: null, reason: 'no CrateDB container' };
  let explicit: string | null = null;
  for (const part of [...(container.command ?? []), ...(container.args ?? [])]) {
    if (!part.includes('ssl.http.enabled')) continue;
    for (const t of tokenizeShell(part)) {
      const m = t.kind === 'word' ? /^-Cssl\.http\.enabled=(.*)$/.exec(t.text) : null;
      if (m) explicit = m[1] ?? '';
    }
  }
  if (explicit !== null) {
    if (/^true$/i.test(explicit)) return { scheme: 'https', reason: '-Cssl.http.enabled=true' };
    if (/^false$/i.test(explicit)) return { scheme: 'http', reason: '-Cssl.http.enabled=false' };
    return { scheme: null, reason: `-Cssl.http.enabled=${explicit} is not a boolean` };
  }
  const envMention = (container.env ?? []).find(
    (e) => /ssl\.http\.enabled/.test(`${e.name}=${e.value ?? ''}`) || /SSL_HTTP_ENABLED/i.test(e.name),
  );
  if (envMention) return { scheme: null, reason: `env ${envMention.name} mentions ssl.http.enabled` };
  const configMount = (container.volumeMounts ?? []).find(
    (m) =>
      m.mountPath === CRATE_CONFIG_DIR ||
      m.mountPath.startsWith(`${CRATE_CONFIG_DIR}/`) ||
      /(^|\/)crate\.ya?ml$/.test(m.mountPath),
  );
  if (configMount) {
    return {
      scheme: null,
      reason: `ssl.http.enabled is not on the command line and ${configMount.mountPath} is mounted: TLS may be set in crate.yml`,
    };
  }
  return { scheme: 'http', reason: "ssl.http.enabled is not set: CrateDB's default" };
}
