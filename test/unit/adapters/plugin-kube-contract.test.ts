// The plugin's in-memory PluginKube keeps the same contract as the real adapter (test/contract/plugin-kube.cluster.test.ts
// runs it against the test cluster).
import { pluginKubeContract } from '../../contract/plugin-kube.contract.js';
import { FakePluginKube } from '../plugin/helpers.js';

let counter = 0;
pluginKubeContract(
  () => new FakePluginKube(),
  () => ({ namespace: 'contract', uniqueName: (prefix) => `${prefix}-${++counter}` }),
  'FakePluginKube keeps the PluginKube contract',
);
