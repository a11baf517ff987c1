/**
 * deploy/kubernetes/: every object valid by the Kubernetes API schemas (kubernetes-models; unknown fields refused as
 * kubectl's strict validation does); the properties overlay-warden needs checked on both variants, the config loaded
 * by the agent's own loader; each property check shown to fail on a manifest broken the way it guards against; and
 * the ConfigMap's file trusted by the agent as a subPath mount shows it, refused as a ConfigMap directory shows it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../agent/config/index.ts';
import {
  CONFIG_KEY,
  KUBERNETES_DIR,
  NIX_CONF_KEY,
  PROPERTY_CHECKS,
  VARIANTS,
  configMapData,
  isAgent,
  loadManifestSet,
  podsOf,
  readKustomization,
  schemaProblems,
  type KubeObject,
  type Manifest,
  type ManifestSet,
} from './kubernetes-manifests.ts';

type Variant = (typeof VARIANTS)[number];
/** The scrape job for these pods, a Prometheus configuration beside the manifests. */
const PROMETHEUS_EXAMPLE = 'prometheus.example.yml';
interface PrometheusConfig {
  scrape_configs: Array<{ job_name: string; relabel_configs?: Array<{ source_labels?: string[]; regex?: string; action?: string }> }>;
}
type CheckName = keyof typeof PROPERTY_CHECKS;

/** The object of `kind` named `name`. */
const objectOf = (objects: readonly KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};
const podSpecOf = (object: KubeObject): IPodSpec =>
  object.kind === 'Pod' ? (object['spec'] as IPodSpec) : (object['spec'] as { template: { spec: IPodSpec } }).template.spec;
const containerOf = (spec: IPodSpec, name: string): IContainer => {
  const found = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
  assert.ok(found, `no container ${name}`);
  return found;
};
const mountOf = (container: IContainer, mountPath: string) => {
  const found = container.volumeMounts?.find((m) => m.mountPath === mountPath);
  assert.ok(found, `${container.name}: nothing mounted at ${mountPath}`);
  return found;
};

/** The sidecar variant's Deployment pod, agent and workload; the node variant's DaemonSet pod and consumer pod. */
const sidecarPod = (objects: KubeObject[]): IPodSpec => podSpecOf(objectOf(objects, 'Deployment', 'nix-workload'));
const nodeAgentPod = (objects: KubeObject[]): IPodSpec => podSpecOf(objectOf(objects, 'DaemonSet', 'overlay-warden'));
const consumerPod = (objects: KubeObject[]): IPodSpec => podSpecOf(objectOf(objects, 'Pod', 'nix-workload-on-node'));
const editConfigMap = (objects: KubeObject[], key: string, edit: (text: string) => string): void => {
  const data = objectOf(objects, 'ConfigMap', 'overlay-warden')['data'] as Record<string, string>;
  const before = data[key]!;
  data[key] = edit(before);
  assert.notEqual(data[key], before, `the edit of ${key} changed nothing`);
};

/** A manifest broken in one way, and the check that must then report a problem. */
interface Breakage {
  readonly variant: Variant;
  readonly check: CheckName;
  readonly what: string;
  readonly breaks: (objects: KubeObject[]) => void;
}

const BREAKAGES: readonly Breakage[] = [
  {
    variant: 'sidecar',
    check: 'native sidecar running run --mount',
    what: 'the sidecar without restartPolicy: Always (a plain init container, which would block the workload)',
    breaks: (o) => void delete containerOf(sidecarPod(o), 'overlay-warden').restartPolicy,
  },
  {
    variant: 'node',
    check: 'native sidecar running run --mount',
    what: 'the agent runs `run` without --mount',
    breaks: (o) => void (containerOf(nodeAgentPod(o), 'overlay-warden').args = ['run']),
  },
  {
    variant: 'sidecar',
    check: 'privileges',
    what: 'the sidecar not privileged (Bidirectional is then refused by the API server)',
    breaks: (o) => void (containerOf(sidecarPod(o), 'overlay-warden').securityContext!.privileged = false),
  },
  {
    variant: 'node',
    check: 'privileges',
    what: 'the agent without CAP_SYS_ADMIN',
    breaks: (o) => void (containerOf(nodeAgentPod(o), 'overlay-warden').securityContext!.capabilities = {}),
  },
  {
    variant: 'node',
    check: 'privileges',
    what: 'the workload privileged',
    breaks: (o) => void (containerOf(consumerPod(o), 'workload').securityContext!.privileged = true),
  },
  {
    variant: 'sidecar',
    check: 'mount propagation',
    what: "the sidecar's propagation dropped (its mount would not reach the workload)",
    breaks: (o) => void delete mountOf(containerOf(sidecarPod(o), 'overlay-warden'), '/nix').mountPropagation,
  },
  {
    variant: 'sidecar',
    check: 'mount propagation',
    what: "the workload's propagation None (it would never see the overlay, nor a remount)",
    breaks: (o) => void (mountOf(containerOf(sidecarPod(o), 'workload'), '/nix').mountPropagation = 'None'),
  },
  {
    variant: 'node',
    check: 'mount propagation',
    what: "the consumer pod's /nix from another hostPath than the DaemonSet's",
    breaks: (o) => void (consumerPod(o).volumes!.find((v) => v.name === 'nix')!.hostPath!.path = '/srv/nix'),
  },
  {
    variant: 'sidecar',
    check: 'lower store read-only',
    what: 'the workload mounts the lower store writable',
    breaks: (o) => void (mountOf(containerOf(sidecarPod(o), 'workload'), '/var/lib/nix-lower').readOnly = false),
  },
  {
    variant: 'sidecar',
    check: 'lower store read-only',
    what: "the lower store's claim mounted writable",
    breaks: (o) => void (sidecarPod(o).volumes!.find((v) => v.name === 'nix-lower')!.persistentVolumeClaim!.readOnly = false),
  },
  {
    variant: 'node',
    check: 'lower store read-only',
    what: "the lower store's hostPath created when missing",
    breaks: (o) => void (nodeAgentPod(o).volumes!.find((v) => v.name === 'nix-lower')!.hostPath!.type = 'DirectoryOrCreate'),
  },
  {
    variant: 'sidecar',
    check: 'shared store paths',
    what: 'the workload mounts the upper volume elsewhere than the agent',
    breaks: (o) => void (mountOf(containerOf(sidecarPod(o), 'workload'), '/var/lib/nix-overlay').mountPath = '/mnt/overlay'),
  },
  {
    variant: 'sidecar',
    check: 'shared store paths',
    what: "the upper DB's state dir on a volume of its own",
    breaks: (o) => {
      const pod = sidecarPod(o);
      pod.volumes!.push({ name: 'nix-state', emptyDir: {} });
      containerOf(pod, 'overlay-warden').volumeMounts!.push({ name: 'nix-state', mountPath: '/var/lib/nix-overlay/state' });
    },
  },
  {
    variant: 'sidecar',
    check: 'probes',
    what: 'the liveness probe on a path the agent does not serve',
    breaks: (o) => void (containerOf(sidecarPod(o), 'overlay-warden').livenessProbe!.httpGet!.path = '/livez'),
  },
  {
    variant: 'node',
    check: 'probes',
    what: 'the readiness probe on another port',
    breaks: (o) => void (containerOf(nodeAgentPod(o), 'overlay-warden').readinessProbe!.httpGet!.port = 8080),
  },
  {
    variant: 'sidecar',
    check: 'probes',
    what: 'the readiness probe on /healthz (alive is not ready)',
    breaks: (o) => void (containerOf(sidecarPod(o), 'overlay-warden').readinessProbe!.httpGet!.path = '/healthz'),
  },
  {
    variant: 'sidecar',
    check: 'probes',
    what: 'http.address on loopback, out of the probes’ reach',
    breaks: (o) => editConfigMap(o, CONFIG_KEY, (t) => t.replace('address: 0.0.0.0:9873', 'address: 127.0.0.1:9873')),
  },
  {
    variant: 'node',
    check: 'Prometheus scrape annotations',
    what: 'the scrape port is not the agent’s',
    breaks: (o) =>
      void ((objectOf(o, 'DaemonSet', 'overlay-warden')['spec'] as { template: { metadata: KubeObject['metadata'] } }).template.metadata.annotations![
        'prometheus.io/port'
      ] = '9090'),
  },
  {
    variant: 'sidecar',
    check: 'config and nix.conf mounts',
    what: "the ConfigMap's directory mounted (world-writable: the agent refuses its config)",
    breaks: (o) => {
      const mount = mountOf(containerOf(sidecarPod(o), 'overlay-warden'), '/etc/overlay-warden/overlay-warden.yaml');
      delete mount.subPath;
      mount.mountPath = '/etc/overlay-warden';
    },
  },
  {
    variant: 'node',
    check: 'config and nix.conf mounts',
    what: 'the ConfigMap’s files writable by others',
    breaks: (o) => void (nodeAgentPod(o).volumes!.find((v) => v.name === 'config')!.configMap!.defaultMode = 0o666),
  },
  {
    variant: 'node',
    check: 'config and nix.conf mounts',
    what: 'the workload without the nix.conf',
    breaks: (o) => void (containerOf(consumerPod(o), 'workload').volumeMounts = containerOf(consumerPod(o), 'workload').volumeMounts!.slice(1)),
  },
  {
    variant: 'sidecar',
    check: 'emptyDirs made root-only',
    what: "the agent's state emptyDir left world-writable",
    breaks: (o) => {
      const prepare = containerOf(sidecarPod(o), 'prepare-volumes');
      prepare.command = prepare.command!.filter((word) => word !== '/var/lib/overlay-warden');
    },
  },
  {
    variant: 'sidecar',
    check: 'nix.conf agrees with the configuration',
    what: "nix.conf's store names another upper layer",
    breaks: (o) => editConfigMap(o, NIX_CONF_KEY, (t) => t.replace('upper-layer=/var/lib/nix-overlay/upper', 'upper-layer=/var/lib/nix-overlay/upper2')),
  },
  {
    variant: 'node',
    check: 'nix.conf agrees with the configuration',
    what: 'local-overlay stores not enabled in Nix',
    breaks: (o) => editConfigMap(o, NIX_CONF_KEY, (t) => t.replace(/^extra-experimental-features.*$/m, '')),
  },
  {
    variant: 'sidecar',
    check: 'nix.conf agrees with the configuration',
    what: "check-mount off in both, though Nix's check accepts the mount",
    breaks: (o) => {
      for (const key of [CONFIG_KEY, NIX_CONF_KEY])
        editConfigMap(o, key, (t) => t.replace('/state"', '/state&check-mount=false"').replace(/\/state$/m, '/state&check-mount=false'));
    },
  },
];

describe('deploy/kubernetes: the manifests', function () {
  let tmp: string;
  let sets: Map<Variant, ManifestSet>;
  let count = 0;
  const freshDir = (): string => path.join(tmp, `set-${++count}`);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-k8s-'));
    sets = new Map(VARIANTS.map((variant) => [variant, loadManifestSet(readKustomization(path.join(KUBERNETES_DIR, variant)), freshDir())]));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('every YAML file is a kustomization or a resource of one that users apply', () => {
    const files = fs
      .readdirSync(KUBERNETES_DIR, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ya?ml$/.test(f) && !['kustomization.yaml', PROMETHEUS_EXAMPLE].includes(path.basename(f)));
    const applied = new Set([...sets.values()].flatMap((s) => s.manifests.map((m) => m.file)));
    assert.deepEqual(
      files.filter((f) => !applied.has(f)),
      [],
    );
  });

  it('every object is valid by the Kubernetes API schemas, with no field they lack', () => {
    const manifests = [...sets.values()].flatMap((s) => s.manifests);
    assert.ok(manifests.length >= 6, `${manifests.length} objects`);
    assert.deepEqual(
      manifests.flatMap((m: Manifest) => schemaProblems(m.object).map((p) => `${m.file}: ${p}`)),
      [],
    );
  });

  it('the schema check refuses a wrong value, a missing field and a misspelt one', () => {
    const deployment = structuredClone(sets.get('sidecar')!.manifests.find((m) => m.object.kind === 'Deployment')!.object);
    const agent = containerOf(podSpecOf(deployment), 'overlay-warden');
    (mountOf(agent, '/nix') as { mountPropagation?: string }).mountPropagation = 'Both';
    assert.match(schemaProblems(deployment).join('\n'), /mountPropagation must be equal to one of the allowed values/);
    mountOf(agent, '/nix').mountPropagation = 'Bidirectional';
    delete (agent as Partial<IContainer>).name;
    assert.match(schemaProblems(deployment).join('\n'), /must have required property name/);
    agent.name = 'overlay-warden';
    const mount = mountOf(agent, '/nix') as unknown as Record<string, unknown>;
    mount['mountPropogation'] = mount['mountPropagation'];
    delete mount['mountPropagation'];
    assert.deepEqual(schemaProblems(deployment), [
      'Deployment nix-workload: spec.template.spec.initContainers[1].volumeMounts[4].mountPropogation is not a field of the API schema',
    ]);
  });

  for (const variant of VARIANTS) {
    for (const [name, check] of Object.entries(PROPERTY_CHECKS)) {
      it(`${variant}: ${name}`, () => assert.deepEqual(check(sets.get(variant)!), []));
    }
  }

  it(`${PROMETHEUS_EXAMPLE}: named as deploy/prometheus/'s job, it keeps the agent of every pod`, () => {
    // promtool cannot check it here: Debian's Prometheus is built without Kubernetes service discovery.
    const read = (file: string): PrometheusConfig => parse(fs.readFileSync(path.join(KUBERNETES_DIR, file), 'utf8')) as PrometheusConfig;
    const [job] = read(PROMETHEUS_EXAMPLE).scrape_configs;
    assert.ok(job !== undefined);
    assert.equal(job.job_name, read('../prometheus/prometheus.example.yml').scrape_configs[0]?.job_name);
    const keep = job.relabel_configs?.find((r) => r.action === 'keep');
    assert.ok(keep?.source_labels !== undefined && keep.regex !== undefined);
    // Prometheus anchors a relabelling regex at both ends and joins the source labels with `;`.
    const regex = new RegExp(`^(?:${keep.regex})$`);
    const agents = [...sets.values()]
      .flatMap((s) => podsOf(s.manifests))
      .flatMap((pod) => [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter(isAgent).map((agent) => ({ pod, agent })));
    assert.equal(agents.length, 2);
    for (const { pod, agent } of agents) {
      const labels: Record<string, string | undefined> = {
        __meta_kubernetes_pod_annotation_prometheus_io_scrape: pod.annotations['prometheus.io/scrape'],
        __meta_kubernetes_pod_container_port_number: String(agent.ports?.[0]?.containerPort),
      };
      const value = keep.source_labels.map((label) => labels[label] ?? assert.fail(`a label this test does not know: ${label}`)).join(';');
      assert.match(value, regex, pod.where);
    }
  });

  describe('each property check fails on a manifest broken the way it guards against', function () {
    for (const { variant, check, what, breaks } of BREAKAGES) {
      it(`${variant}, ${check}: ${what}`, () => {
        const objects = structuredClone(sets.get(variant)!.manifests.map((m) => m.object));
        breaks(objects);
        const manifests = objects.map((object, i) => ({ file: sets.get(variant)!.manifests[i]!.file, object }));
        const problems = PROPERTY_CHECKS[check](loadManifestSet(manifests, freshDir()));
        assert.ok(problems.length > 0, `${check} saw nothing wrong`);
      });
    }

    it('every check is shown to fail', () => {
      assert.deepEqual(
        Object.keys(PROPERTY_CHECKS).filter((name) => !BREAKAGES.some((b) => b.check === name)),
        [],
      );
    });
  });

  describe("the ConfigMap's configuration as the kubelet shows it to the agent", function () {
    /** A ConfigMap volume as the kubelet writes it: the files in a timestamped dir, `..data` and each key symlinks. */
    const configMapVolume = (mode: number): string => {
      const volume = path.join(freshDir(), 'volume');
      fs.mkdirSync(volume, { recursive: true });
      const stamp = '..2026_12_06_22_00_00.1234567890';
      fs.mkdirSync(path.join(volume, stamp), { mode: 0o755 });
      for (const [key, text] of Object.entries(configMapData(sets.get('sidecar')!.manifests))) {
        fs.writeFileSync(path.join(volume, stamp, key), text, { mode: 0o444 });
        fs.symlinkSync(`..data/${key}`, path.join(volume, key));
      }
      fs.symlinkSync(stamp, path.join(volume, '..data'));
      fs.chmodSync(volume, mode);
      return volume;
    };

    it('a subPath mount (the file alone, 0444, in a root-only directory) is trusted', () => {
      const set = sets.get('sidecar')!;
      assert.equal(set.config.http.address, '0.0.0.0:9873');
      assert.equal(fs.statSync(set.config.file!).mode & 0o777, 0o444);
    });

    it('the volume directory (mode 0777, as for every disk-backed emptyDir) is refused', () => {
      const volume = configMapVolume(0o777);
      assert.throws(
        () => loadConfig({ flags: { config: path.join(volume, CONFIG_KEY) }, env: {} }),
        (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INSECURE' && error.message.includes(volume),
      );
    });

    it('a memory-backed volume directory (mode 1777: a projected volume) would be trusted', () => {
      const volume = configMapVolume(0o1777);
      assert.equal(loadConfig({ flags: { config: path.join(volume, CONFIG_KEY) }, env: {} }).http.address, '0.0.0.0:9873');
    });
  });
});
