/**
 * deploy/kubernetes/ read as kubectl apply -k would (each kustomization's resources), each object validated against
 * the Kubernetes API schemas (kubernetes-models) with unknown fields refused, and the properties overlay-warden needs
 * of a pod, each a pure check that returns its problems (empty: the property holds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { validate as daemonSetSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1DaemonSet';
import { validate as deploymentSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as configMapSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as claimSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1PersistentVolumeClaim';
import { validate as podSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Pod';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type Config } from '../../agent/config/index.ts';
import { messageOf } from '../../agent/errors/index.ts';
import { HTTP_ENDPOINTS, parseListenAddress } from '../../agent/http/index.ts';
import { LOCAL_OVERLAY_FEATURE, nixConfForStore, planOverlay, predictNixCheckMount } from '../../agent/mount-setup/index.ts';
import { formatStoreUrl, parseNixConf, parseStoreUrl } from '../../agent/store/index.ts';

export const KUBERNETES_DIR = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
/** The kustomizations users apply: one per variant. */
export const VARIANTS = ['sidecar', 'node'] as const;
/** The ConfigMap holding the agent's configuration and the workload's nix.conf, and its two keys. */
export const CONFIG_MAP = 'overlay-warden';
export const CONFIG_KEY = 'overlay-warden.yaml';
export const NIX_CONF_KEY = 'nix.conf';
/** Where Nix reads its configuration in a container (NIX_CONF_DIR's default). */
export const NIX_CONF_PATH = '/etc/nix/nix.conf';

/** A Kubernetes object as written. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Manifest {
  /** Relative to deploy/kubernetes/. */
  readonly file: string;
  readonly object: KubeObject;
}

/**
 * The objects `kubectl apply -k DIR` would apply: each resource of DIR/kustomization.yaml, a directory being
 * another kustomization. Throws on anything but plain resources (a patch or a generator would need kustomize itself).
 */
export function readKustomization(dir: string): Manifest[] {
  const kustomization = parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
  const extra = Object.keys(kustomization).filter((key) => !['apiVersion', 'kind', 'resources'].includes(key));
  if (extra.length > 0) throw new Error(`${dir}/kustomization.yaml: ${extra.join(', ')}: only resources are read here`);
  return ((kustomization['resources'] as string[] | undefined) ?? []).flatMap((resource) => {
    const target = path.resolve(dir, resource);
    return fs.statSync(target).isDirectory() ? readKustomization(target) : readManifestFile(target);
  });
}

function readManifestFile(file: string): Manifest[] {
  const documents = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(documents)) throw new Error(`${file}: not YAML documents`);
  return documents.flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
    const object = document.toJS() as KubeObject | null;
    return object === null ? [] : [{ file: path.relative(KUBERNETES_DIR, file), object }];
  });
}

/** The model class (its validate() throws the schema's errors) and the raw schema function of each kind used. */
const KINDS: Readonly<Record<string, { readonly model: new (data: never) => { validate(): void }; readonly schema: (data: unknown) => boolean }>> = {
  'v1/ConfigMap': { model: ConfigMap, schema: configMapSchema },
  'v1/PersistentVolumeClaim': { model: PersistentVolumeClaim, schema: claimSchema },
  'v1/Pod': { model: Pod, schema: podSchema },
  'apps/v1/Deployment': { model: Deployment, schema: deploymentSchema },
  'apps/v1/DaemonSet': { model: DaemonSet, schema: daemonSetSchema },
};

/**
 * What the API server would refuse of the object: the schema's errors, and every field the schema does not have
 * (kubectl apply validates fields strictly; the JSON schemas alone let a misspelt field such as
 * `mountPropogation` pass, and the setting it meant would silently be missing).
 */
export function schemaProblems(object: KubeObject): string[] {
  const kind = KINDS[`${object.apiVersion}/${object.kind}`];
  if (kind === undefined) return [`${object.apiVersion} ${object.kind}: a kind this test has no schema for`];
  try {
    new kind.model(object as never).validate();
  } catch (error) {
    return [`${object.kind} ${object.metadata?.name}: ${messageOf(error)}`];
  }
  return unknownFields(object, kind.schema).map((field) => `${object.kind} ${object.metadata.name}: ${field} is not a field of the API schema`);
}

/**
 * The fields of `value` the schema function never looks at. The compiled schema reads each property it knows by name,
 * and enumerates the keys of the maps it allows (labels, ConfigMap data); so every object is wrapped in a proxy that
 * records both, and a key of a never-enumerated object that was never read is unknown to the schema.
 */
export function unknownFields(value: unknown, schema: (data: unknown) => boolean): string[] {
  const read = new Map<object, { readonly at: string; readonly keys: Set<PropertyKey> }>();
  const enumerated = new Set<object>();
  const wrap = (node: unknown, at: string): unknown => {
    if (Array.isArray(node)) return node.map((item: unknown, i) => wrap(item, `${at}[${i}]`));
    if (typeof node !== 'object' || node === null) return node;
    const target = Object.fromEntries(Object.entries(node).map(([key, child]) => [key, wrap(child, at === '' ? key : `${at}.${key}`)]));
    read.set(target, { at, keys: new Set() });
    return new Proxy(target, {
      get: (t, key, receiver) => (read.get(t)!.keys.add(key), Reflect.get(t, key, receiver)),
      ownKeys: (t) => (enumerated.add(t), Reflect.ownKeys(t)),
    });
  };
  schema(wrap(value, ''));
  const unknown: string[] = [];
  for (const [target, { at, keys }] of read) {
    if (enumerated.has(target)) continue;
    for (const key of Object.keys(target)) if (!keys.has(key)) unknown.push(at === '' ? key : `${at}.${key}`);
  }
  return unknown;
}

/** A pod spec of the manifests (a Pod's, or a Deployment's or DaemonSet's template) with where it is. */
export interface PodAt {
  /** `FILE Kind/name`, for messages. */
  readonly where: string;
  readonly spec: IPodSpec;
  readonly annotations: Readonly<Record<string, string>>;
}

export function podsOf(manifests: readonly Manifest[]): PodAt[] {
  return manifests.flatMap(({ file, object }) => {
    const where = `${file} ${object.kind}/${object.metadata.name}`;
    if (object.kind === 'Pod') return [{ where, spec: object['spec'] as IPodSpec, annotations: object.metadata.annotations ?? {} }];
    if (object.kind !== 'Deployment' && object.kind !== 'DaemonSet') return [];
    const template = (object['spec'] as { template: { metadata?: { annotations?: Record<string, string> }; spec: IPodSpec } }).template;
    return [{ where, spec: template.spec, annotations: template.metadata?.annotations ?? {} }];
  });
}

/** The agent: the container running `overlay-warden run`. */
export const isAgent = (container: IContainer): boolean => (container.args ?? container.command ?? []).includes('run');
const allContainers = (spec: IPodSpec): IContainer[] => [...(spec.initContainers ?? []), ...spec.containers];
const agentsOf = (pod: PodAt): IContainer[] => allContainers(pod.spec).filter(isAgent);
/** The workloads: the pod's regular containers other than the agent (init containers only prepare or wait). */
const workloadsOf = (pod: PodAt): IContainer[] => pod.spec.containers.filter((c) => !isAgent(c));
/** A plain init container ahead of the agent: it has run to its end before anything is mounted. */
const runsBeforeAgent = (pod: PodAt, container: IContainer): boolean => {
  const inits = pod.spec.initContainers ?? [];
  const index = inits.indexOf(container);
  return index >= 0 && index < inits.findIndex(isAgent) && container.restartPolicy === undefined;
};

/** The store's paths the containers must share: the overlay `overlay-warden mount` plans for the configuration, and the state dir. */
export interface StorePaths {
  readonly merged: string;
  /** The lower store's real store dir (the bottom lowerdir). */
  readonly lower: string;
  readonly upper: string;
  readonly work: string;
  /** The overlay store's Nix state dir (the upper DB). */
  readonly state: string;
}

export function storePaths(config: Config): StorePaths {
  const { spec } = planOverlay(config);
  return { merged: spec.mergedDir, lower: spec.lowerDirs.at(-1)!, upper: spec.upperDir, work: spec.workDir, state: config.layout.stateDir };
}

/** The deepest mount of `container` at or above `target` (a subPath mount covers its own path only). */
export function mountCovering(container: IContainer, target: string): IVolumeMount | undefined {
  const covers = (m: IVolumeMount): boolean =>
    m.subPath !== undefined ? m.mountPath === target : target === m.mountPath || target.startsWith(`${m.mountPath.replace(/\/$/, '')}/`);
  return (container.volumeMounts ?? []).filter(covers).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

/**
 * What `target` is in `container`: the volume behind it and the path inside that volume. A hostPath is the node's
 * path (the same in every pod on the node); any other volume is the pod's own.
 */
export function locationOf(pod: PodAt, container: IContainer, target: string): string | undefined {
  const mount = mountCovering(container, target);
  if (mount === undefined) return undefined;
  const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
  const inside = path.posix.relative(mount.mountPath, target);
  const source = volume?.hostPath !== undefined ? `node:${volume.hostPath.path}` : `${pod.where} volume ${mount.name}`;
  return path.posix.join(source, mount.subPath ?? '', inside);
}

/** The manifests of one kustomization with the configuration its ConfigMap holds, loaded by the agent's own loader. */
export interface ManifestSet {
  readonly manifests: readonly Manifest[];
  readonly config: Config;
  readonly nixConf: string;
}

/** The ConfigMap's data, or a problem. */
export function configMapData(manifests: readonly Manifest[]): Record<string, string> {
  const configMap = manifests.find((m) => m.object.kind === 'ConfigMap' && m.object.metadata.name === CONFIG_MAP);
  if (configMap === undefined) throw new Error(`no ConfigMap ${CONFIG_MAP}`);
  return configMap.object['data'] as Record<string, string>;
}

/**
 * Writes the ConfigMap's two files into `dir` as the kubelet's subPath mounts show them to the agent (root's, mode
 * 0444, in a directory only root writes), then loads the configuration as `overlay-warden run` would: the file
 * through the trust checks, validated by the schema, the store URL resolved. Throws the agent's ConfigError.
 */
export function loadManifestSet(manifests: readonly Manifest[], dir: string): ManifestSet {
  const data = configMapData(manifests);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = path.join(dir, CONFIG_KEY);
  fs.writeFileSync(file, data[CONFIG_KEY] ?? '', { mode: 0o444, flag: 'wx' });
  const config = loadConfig({ flags: { config: file }, env: {} });
  return { manifests, config, nixConf: data[NIX_CONF_KEY] ?? '' };
}

type Check = (set: ManifestSet) => string[];

/** Each pod with an agent and workloads runs the agent as a native sidecar: an init container with restartPolicy Always. */
export const nativeSidecarProblems: Check = ({ manifests }) =>
  podsOf(manifests).flatMap((pod) => {
    const agents = agentsOf(pod);
    if (agents.length === 0) return [];
    const problems = agents.length === 1 ? [] : [`${pod.where}: ${agents.length} agents`];
    const workloads = workloadsOf(pod);
    const sidecar = (pod.spec.initContainers ?? []).find(isAgent);
    if (workloads.length > 0 && (sidecar === undefined || sidecar.restartPolicy !== 'Always'))
      problems.push(
        `${pod.where}: the agent beside ${workloads.map((c) => c.name).join(', ')} is not a native sidecar (initContainers, restartPolicy: Always)`,
      );
    for (const agent of agents) {
      const args = [...(agent.command ?? []), ...(agent.args ?? [])];
      if (!args.includes('--mount')) problems.push(`${pod.where}: the agent runs ${args.join(' ')}, not run --mount`);
    }
    return problems;
  });

/**
 * The agent is root, privileged and has CAP_SYS_ADMIN (mount and remount; Bidirectional needs privileged); every
 * container with a Bidirectional mount is privileged (the API server's rule); no other container mounts or is privileged.
 */
export const privilegeProblems: Check = ({ manifests }) =>
  podsOf(manifests).flatMap((pod) =>
    allContainers(pod.spec).flatMap((container) => {
      const where = `${pod.where} container ${container.name}`;
      const context = container.securityContext ?? {};
      const problems: string[] = [];
      const bidirectional = (container.volumeMounts ?? []).some((m) => m.mountPropagation === 'Bidirectional');
      if (bidirectional && context.privileged !== true) problems.push(`${where}: Bidirectional mount propagation in a container that is not privileged`);
      if (isAgent(container)) {
        if (context.runAsUser !== 0) problems.push(`${where}: the agent must run as root (runAsUser: 0)`);
        if (context.privileged !== true) problems.push(`${where}: the agent must be privileged`);
        if (!(context.capabilities?.add ?? []).includes('SYS_ADMIN')) problems.push(`${where}: the agent needs CAP_SYS_ADMIN (capabilities.add)`);
        if (context.allowPrivilegeEscalation === false) problems.push(`${where}: allowPrivilegeEscalation false contradicts privileged`);
      } else {
        if (context.privileged === true) problems.push(`${where}: privileged, though it never mounts`);
        if ((context.capabilities?.add ?? []).includes('SYS_ADMIN')) problems.push(`${where}: CAP_SYS_ADMIN, though it never mounts`);
      }
      return problems;
    }),
  );

/** Where the agents of the manifests see each path: the locations a workload's mounts must match. */
function agentLocations(manifests: readonly Manifest[], target: string): Map<string, string | undefined> {
  const locations = new Map<string, string | undefined>();
  for (const pod of podsOf(manifests)) for (const agent of agentsOf(pod)) locations.set(pod.where, locationOf(pod, agent, target));
  return locations;
}

/**
 * The agent mounts the merged store's volume with Bidirectional propagation; every other container that sees the
 * merged store dir sees it through HostToContainer propagation of that same volume (in the agent's pod, or through
 * the same hostPath from another pod on the node).
 */
export const propagationProblems: Check = (set) => {
  const { merged } = storePaths(set.config);
  const agents = agentLocations(set.manifests, merged);
  return podsOf(set.manifests).flatMap((pod) =>
    allContainers(pod.spec).flatMap((container) => {
      const mount = mountCovering(container, merged);
      const where = `${pod.where} container ${container.name}`;
      if (isAgent(container)) {
        if (mount === undefined) return [`${where}: no volume holds the merged store dir ${merged}`];
        return mount.mountPropagation === 'Bidirectional' ? [] : [`${where}: the mount of ${mount.mountPath} is not Bidirectional`];
      }
      if (mount === undefined || runsBeforeAgent(pod, container)) return [];
      const problems = mount.mountPropagation === 'HostToContainer' ? [] : [`${where}: the mount of ${mount.mountPath} is not HostToContainer`];
      const own = agents.get(pod.where);
      const location = locationOf(pod, container, merged);
      const shared = own !== undefined ? own === location : [...agents.values()].some((l) => l === location && l?.startsWith('node:') === true);
      if (!shared) problems.push(`${where}: ${merged} is ${location}, not the volume the agent mounts the overlay in`);
      return problems;
    }),
  );
};

/** Every mount of the lower store is read-only, and so is its volume: a read-only claim (ReadOnlyMany) or an existing hostPath. */
export const lowerReadOnlyProblems: Check = (set) => {
  const { lower } = storePaths(set.config);
  const claims = new Map(set.manifests.filter((m) => m.object.kind === 'PersistentVolumeClaim').map((m) => [m.object.metadata.name, m.object]));
  return podsOf(set.manifests).flatMap((pod) =>
    allContainers(pod.spec).flatMap((container) => {
      const mount = mountCovering(container, lower);
      if (mount === undefined) return [];
      const where = `${pod.where} container ${container.name}`;
      const problems = mount.readOnly === true ? [] : [`${where}: the lower store (${mount.mountPath}) is mounted writable`];
      const volume = (pod.spec.volumes ?? []).find((v) => v.name === mount.name);
      if (volume?.persistentVolumeClaim !== undefined) {
        if (volume.persistentVolumeClaim.readOnly !== true) problems.push(`${where}: the lower store's claim is not mounted readOnly`);
        const claim = claims.get(volume.persistentVolumeClaim.claimName) as { spec?: { accessModes?: string[] } } | undefined;
        if (claim !== undefined && JSON.stringify(claim.spec?.accessModes) !== '["ReadOnlyMany"]')
          problems.push(`${where}: the lower store's claim is not ReadOnlyMany`);
      } else if (volume?.hostPath !== undefined) {
        if (volume.hostPath.type !== 'Directory')
          problems.push(`${where}: the lower store's hostPath may be created empty (type ${volume.hostPath.type ?? 'unset'}, not Directory)`);
      } else {
        problems.push(`${where}: the lower store is neither a claim nor a hostPath`);
      }
      return problems;
    }),
  );
};

/**
 * In the agent, the upper layer, the work dir and the upper DB's state dir are on one volume (the work dir must share
 * the upper layer's filesystem; the DB describes the layer); every workload sees them, and the lower store, where the
 * agent does (Nix reads both DBs, deletes in the upper layer, and its check-mount compares the mount with these paths).
 */
export const sharedPathsProblems: Check = (set) => {
  const paths = storePaths(set.config);
  const problems: string[] = [];
  for (const pod of podsOf(set.manifests)) {
    for (const agent of agentsOf(pod)) {
      const volumes = [paths.upper, paths.work, paths.state].map((p) => mountCovering(agent, p)?.name);
      if (volumes[0] === undefined || volumes.some((v) => v !== volumes[0]))
        problems.push(`${pod.where}: the upper layer, work dir and state dir are on volumes ${volumes.join(', ')}, not one`);
    }
  }
  for (const target of [paths.lower, paths.upper, paths.state]) {
    const agents = agentLocations(set.manifests, target);
    for (const pod of podsOf(set.manifests)) {
      for (const container of workloadsOf(pod)) {
        const location = locationOf(pod, container, target);
        const own = agents.get(pod.where);
        const same = own !== undefined ? own === location : location?.startsWith('node:') === true && [...agents.values()].includes(location);
        if (!same) problems.push(`${pod.where} container ${container.name}: ${target} is ${location ?? 'not mounted'}, not what the agent sees there`);
      }
    }
  }
  return problems;
};

/** A probe's problems: an HTTP GET of an open endpoint the agent serves, on the port `http.address` listens on. */
function probeProblems(where: string, container: IContainer, probe: IProbe | undefined, paths: readonly string[], port: number): string[] {
  if (probe?.httpGet === undefined) return [`${where}: no HTTP probe`];
  const { path: route = '', port: probePort, scheme } = probe.httpGet;
  const problems: string[] = [];
  const endpoint = (HTTP_ENDPOINTS as Record<string, { method: string; control: boolean } | undefined>)[route];
  if (endpoint === undefined || endpoint.method !== 'GET' || endpoint.control) problems.push(`${where}: ${route} is no open GET endpoint of the agent`);
  else if (!paths.includes(route)) problems.push(`${where}: ${route}, not ${paths.join(' or ')}`);
  const number = typeof probePort === 'number' ? probePort : container.ports?.find((p) => p.name === probePort)?.containerPort;
  if (number !== port) problems.push(`${where}: port ${String(probePort)} is not the agent's http.address port ${port}`);
  if (scheme !== undefined && scheme !== 'HTTP') problems.push(`${where}: scheme ${scheme}; the agent serves plain HTTP`);
  return problems;
}

/**
 * Startup (/readyz or /healthz), readiness (/readyz) and liveness (/healthz) probes of the agent hit endpoints it
 * serves, on the port of `http.address`, which listens on every address (the kubelet connects to the pod IP).
 */
export const probesProblems: Check = (set) => {
  const address = parseListenAddress(set.config.http.address);
  const problems = ['0.0.0.0', '::'].includes(address.host)
    ? []
    : [`http.address ${set.config.http.address}: the kubelet's probes reach the pod IP, not ${address.host}`];
  for (const pod of podsOf(set.manifests)) {
    for (const agent of agentsOf(pod)) {
      const where = `${pod.where} container ${agent.name}`;
      problems.push(
        ...probeProblems(`${where} startupProbe`, agent, agent.startupProbe, ['/readyz', '/healthz'], address.port),
        ...probeProblems(`${where} readinessProbe`, agent, agent.readinessProbe, ['/readyz'], address.port),
        ...probeProblems(`${where} livenessProbe`, agent, agent.livenessProbe, ['/healthz'], address.port),
      );
    }
  }
  return problems;
};

/** Pods with an agent carry the scrape annotations: /metrics (an endpoint it serves) on the http.address port, as deploy/prometheus/ scrapes it. */
export const prometheusProblems: Check = (set) => {
  const { port } = parseListenAddress(set.config.http.address);
  return podsOf(set.manifests).flatMap((pod) => {
    if (agentsOf(pod).length === 0) return [];
    const a = pod.annotations;
    const problems: string[] = [];
    if (a['prometheus.io/scrape'] !== 'true') problems.push(`${pod.where}: prometheus.io/scrape is not "true"`);
    if (a['prometheus.io/port'] !== String(port))
      problems.push(`${pod.where}: prometheus.io/port ${a['prometheus.io/port']} is not the http.address port ${port}`);
    if (a['prometheus.io/path'] !== '/metrics' || !('/metrics' in HTTP_ENDPOINTS)) problems.push(`${pod.where}: prometheus.io/path is not /metrics`);
    return problems;
  });
};

/**
 * The agent reads the ConfigMap's configuration where OVERLAY_WARDEN_CONFIG points, and the workload's nix.conf where
 * checks.nixConf points; workloads read nix.conf at /etc/nix/nix.conf; each through a subPath mount (the volume's own
 * directory is world-writable, which the agent refuses) of the one ConfigMap, whose files nobody but root may write.
 */
export const configMountProblems: Check = (set) =>
  podsOf(set.manifests).flatMap((pod) => {
    const problems: string[] = [];
    const configVolumes = new Map((pod.spec.volumes ?? []).flatMap((v) => (v.configMap === undefined ? [] : [[v.name, v.configMap] as const])));
    for (const [name, source] of configVolumes) {
      if (source.name !== CONFIG_MAP) problems.push(`${pod.where}: volume ${name} is ConfigMap ${source.name}, not ${CONFIG_MAP}`);
      if (((source.defaultMode ?? 0o644) & 0o022) !== 0) problems.push(`${pod.where}: volume ${name}'s files are writable by group or others`);
    }
    const expectFile = (container: IContainer, at: string | undefined, key: string): void => {
      const mount = at === undefined ? undefined : (container.volumeMounts ?? []).find((m) => m.mountPath === at);
      if (mount === undefined || !configVolumes.has(mount.name) || mount.subPath !== key)
        problems.push(`${pod.where} container ${container.name}: ${at ?? 'its config'} is no subPath mount of ${CONFIG_MAP}'s ${key}`);
    };
    for (const container of allContainers(pod.spec)) {
      if (isAgent(container)) {
        expectFile(container, container.env?.find((e) => e.name === 'OVERLAY_WARDEN_CONFIG')?.value, CONFIG_KEY);
        expectFile(container, set.config.checks.nixConf, NIX_CONF_KEY);
      } else if (workloadsOf(pod).includes(container)) {
        expectFile(container, NIX_CONF_PATH, NIX_CONF_KEY);
      }
      for (const mount of container.volumeMounts ?? [])
        if (configVolumes.has(mount.name) && mount.subPath === undefined)
          problems.push(`${pod.where} container ${container.name}: ${mount.mountPath} mounts the ConfigMap's directory`);
    }
    return problems;
  });

/**
 * Every emptyDir the agent mounts (created mode 0777) is made root's alone (chmod 0755) by an init container that
 * runs before the agent: the agent refuses state and paths under a directory others can write.
 */
export const emptyDirProblems: Check = ({ manifests }) =>
  podsOf(manifests).flatMap((pod) => {
    const inits = pod.spec.initContainers ?? [];
    const agentIndex = inits.findIndex(isAgent);
    const agent = allContainers(pod.spec).find(isAgent);
    if (agent === undefined) return [];
    const emptyDirs = new Set((pod.spec.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name));
    return (agent.volumeMounts ?? []).flatMap((mount) => {
      if (!emptyDirs.has(mount.name)) return [];
      const prepared = inits.some((init, i) => {
        const [program, mode, ...paths] = [...(init.command ?? []), ...(init.args ?? [])];
        const at = init.volumeMounts?.find((m) => m.name === mount.name)?.mountPath;
        const chmods = program === 'chmod' && (mode === '0755' || mode === '755') && at !== undefined && paths.includes(at);
        return i < agentIndex && init.restartPolicy === undefined && chmods;
      });
      return prepared ? [] : [`${pod.where}: emptyDir ${mount.name} (${mount.mountPath}) stays world-writable before the agent starts`];
    });
  });

/** Where the image installs hooks/nix-remount-hook (deploy/container/Containerfile: the package in /opt/overlay-warden). */
const IMAGE_REMOUNT_HOOK = '/opt/overlay-warden/hooks/nix-remount-hook';

/** A store URL's settings, comparable: the parsed URL without the text it was parsed from, its parameters sorted. */
const settingsOf = (url: string): string =>
  JSON.stringify(parseStoreUrl(url), (key, value: unknown) =>
    key === 'url' ? undefined : key === 'params' ? Object.fromEntries(Object.entries(value as object).sort()) : value,
  );

/**
 * The ConfigMap's nix.conf (read by the agent's nix.conf parser) holds what `overlay-warden mount --print-nix-conf`
 * prints for the configuration, by the same code (mount-setup's nixConfForStore, Nix's check-mount predicted on the
 * planned mount): local-overlay stores enabled, and the same store settings, check-mount included, less remount-hook
 * (a file of the agent's image, absent from the workload's: config/configmap.yaml says why).
 */
export const nixConfProblems: Check = (set) => {
  const entries = parseNixConf(set.nixConf, NIX_CONF_PATH);
  const settings = new Map(entries.flatMap((e) => (e.kind === 'setting' ? [[e.name, e.value] as const] : [])));
  const store = settings.get('store');
  if (store === undefined) return [`${NIX_CONF_KEY}: no store setting`];
  const { layout } = set.config;
  const plan = planOverlay(set.config);
  const printed = nixConfForStore({
    layout,
    remountHook: IMAGE_REMOUNT_HOOK,
    verdict: predictNixCheckMount(plan.spec, layout),
    verdictSource: 'planned mount',
    mountAsConfigured: true,
  });
  const expected = formatStoreUrl(parseStoreUrl(printed.storeUrl), { 'remount-hook': undefined });
  const problems: string[] = [];
  if (settingsOf(store) !== settingsOf(expected)) problems.push(`${NIX_CONF_KEY}: store = ${store}; --print-nix-conf gives ${expected} (less remount-hook)`);
  const features = `${settings.get('experimental-features') ?? ''} ${settings.get('extra-experimental-features') ?? ''}`.split(/\s+/);
  if (!features.includes(LOCAL_OVERLAY_FEATURE)) problems.push(`${NIX_CONF_KEY}: ${LOCAL_OVERLAY_FEATURE} is not an enabled experimental feature`);
  return problems;
};

/** Every property check, by name. */
export const PROPERTY_CHECKS = {
  'native sidecar running run --mount': nativeSidecarProblems,
  privileges: privilegeProblems,
  'mount propagation': propagationProblems,
  'lower store read-only': lowerReadOnlyProblems,
  'shared store paths': sharedPathsProblems,
  probes: probesProblems,
  'Prometheus scrape annotations': prometheusProblems,
  'config and nix.conf mounts': configMountProblems,
  'emptyDirs made root-only': emptyDirProblems,
  'nix.conf agrees with the configuration': nixConfProblems,
} as const satisfies Record<string, Check>;
