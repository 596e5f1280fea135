import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { findCrateContainer } from '../../../shared/detect/index.js';
import { isCrateImage } from '../../../shared/detect/container.js';
import { SQL_EXPORTER } from './builders.js';

const c = (name: string, image?: string, ports: number[] = []): V1Container => ({
  name,
  ...(image === undefined ? {} : { image }),
  ports: ports.map((containerPort) => ({ containerPort })),
});

describe('findCrateContainer', () => {
  it.each<[string, V1Container[], string | null]>([
    [
      'crate-operator: sql-exporter sidecar first, crate second',
      [SQL_EXPORTER, c('crate', 'crate:5.10.3', [4200])],
      'crate',
    ],
    ['named crate wins over an earlier crate image', [c('db', 'crate:5.8'), c('crate', 'internal/db:1')], 'crate'],
    ['image crate (no tag)', [c('sidecar', 'busybox'), c('db', 'crate')], 'db'],
    ['image crate/crate:5.x', [c('sidecar', 'nginx:1'), c('db', 'crate/crate:5.10.3')], 'db'],
    ['image with registry and digest', [c('db', 'docker.io/crate/crate@sha256:0123abcd')], 'db'],
    [
      'image from a private registry path',
      [c('x', 'busybox'), c('db', 'registry.example.com:5000/mirror/crate:5.9.1')],
      'db',
    ],
    ['image cratedb', [c('db', 'quay.io/acme/cratedb:6.0')], 'db'],
    ['image match beats port match', [c('proxy', 'envoy', [4200]), c('db', 'crate:5.10')], 'db'],
    [
      'port 4200 as last resort',
      [c('exporter', 'prom/exporter', [9100]), c('db', 'acme/database:1', [4200, 5432])],
      'db',
    ],
    [
      'crate-operator or crate-control images are not CrateDB',
      [c('op', 'crate/crate-operator:2.40'), c('ctl', 'crate/crate-control:1')],
      null,
    ],
    ['none', [SQL_EXPORTER, c('app', 'nginx:1', [80])], null],
    ['empty', [], null],
  ])('%s', (_title, containers, expected) => {
    expect(findCrateContainer(containers)?.name ?? null).toBe(expected);
  });

  it.each([
    ['crate', true],
    ['crate:latest', true],
    ['CRATE:5', true],
    ['docker.io/crate/crate:5.10.3@sha256:abc', true],
    ['localhost:5000/crate', true],
    ['crate/crate-operator:2.4', false],
    ['sql_exporter', false],
    ['crate-sim:dev', false],
    ['', false],
  ])('isCrateImage(%j) -> %s', (image, expected) => {
    expect(isCrateImage(image)).toBe(expected);
  });
});
