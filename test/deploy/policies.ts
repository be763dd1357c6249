/**
 * High-availability and hardening policies for the rendered production manifests
 * (issue 6): each check returns violations, one message per mistake, naming the object.
 *
 * Workloads are the app's Deployments and the operators' StatefulSet-backed resources, read
 * where each operator takes the setting:
 *
 * | kind            | replicas                 | spread constraints                         | disruption budget              |
 * | --------------- | ------------------------ | ------------------------------------------ | ------------------------------ |
 * | Deployment      | spec.replicas or the HPA / KEDA minimum | pod template                | a PodDisruptionBudget selecting its pods |
 * | Cluster (CNPG)  | spec.instances           | spec.topologySpreadConstraints             | the operator's (spec.enablePDB not false) |
 * | Pooler (CNPG)   | spec.instances           | spec.template.spec                         | a PodDisruptionBudget (cnpg.io/poolerName) |
 * | Dragonfly       | spec.replicas            | spec.topologySpreadConstraints             | the operator's (spec.pdb set)  |
 * | Tenant (MinIO)  | spec.pools[].servers     | spec.pools[].topologySpreadConstraints     | a PodDisruptionBudget (v1.min.io/tenant; the operator's was removed in v7) |
 * | RabbitmqCluster | spec.replicas            | spec.override.statefulSet.spec.template.spec | a PodDisruptionBudget (app.kubernetes.io/name) |
 */
import {
  at,
  describe,
  isRecord,
  labelsAt,
  numberAt,
  records,
  stringAt,
  type Json,
  type K8sObject,
} from './objects.js';

export interface Violation {
  rule:
    | 'replicas'
    | 'topology-spread'
    | 'disruption-budget'
    | 'probes'
    | 'resources'
    | 'security-context'
    | 'termination-grace'
    | 'secret-literal'
    | 'image-pinned'
    | 'wal-level'
    | 'minio-config'
    | 'cnpg-status-port'
    | 'eviction-policy'
    | 'cnpg-reload'
    | 'wal-headroom'
    | 'migrate-per-release'
    | 'dragonfly-admin'
    | 'rabbitmq-users'
    | 'backup-plugin'
    | 'stream-storage';
  object: string;
  message: string;
}

const ZONE = 'topology.kubernetes.io/zone';
const HOSTNAME = 'kubernetes.io/hostname';

const is = (object: K8sObject, kind: string, group?: string) =>
  object.kind === kind && (group === undefined || object.apiVersion.startsWith(`${group}/`));

/** Does a label selector ({matchLabels, matchExpressions}) select pods with these labels? */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector)) return false;
  const matchLabels = labelsAt(selector, 'matchLabels');
  const expressions = records(selector['matchExpressions']);
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  for (const [key, value] of Object.entries(matchLabels)) if (labels[key] !== value) return false;
  for (const expression of expressions) {
    const key = stringAt(expression, 'key') ?? '';
    const values = (at(expression, 'values') as unknown[] | undefined) ?? [];
    const has = key in labels;
    switch (stringAt(expression, 'operator')) {
      case 'In':
        if (!has || !values.includes(labels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

interface Workload {
  object: K8sObject;
  /** Fewest replicas it runs with. */
  replicas: number;
  exactReplicas?: number;
  spread: Json[];
  /** How its disruption budget is provided: by the operator, or by a PDB over these labels. */
  budget: { operator: boolean; reason?: string } | { podLabels: Record<string, string> };
  /**
   * Where an operator resource declares its compute resources; undefined for Deployments,
   * whose containers are checked with every other pod spec (checkPods).
   */
  resources?: { where: string; value: unknown }[];
}

function autoscalerMinimum(objects: K8sObject[], deployment: K8sObject): number | undefined {
  const name = deployment.metadata.name;
  for (const object of objects) {
    const target =
      is(object, 'HorizontalPodAutoscaler') || is(object, 'ScaledObject', 'keda.sh')
        ? at(object, 'spec', 'scaleTargetRef')
        : undefined;
    if (!isRecord(target) || target['name'] !== name) continue;
    if ((stringAt(target, 'kind') ?? 'Deployment') !== 'Deployment') continue;
    if (object.kind === 'HorizontalPodAutoscaler') return numberAt(object, 'spec', 'minReplicas') ?? 1;
    return numberAt(object, 'spec', 'minReplicaCount') ?? 0;
  }
  return undefined;
}

function containerResources(podSpec: unknown) {
  return records(at(podSpec, 'containers')).map((c) => ({
    where: `container ${stringAt(c, 'name') ?? '?'}`,
    value: c['resources'],
  }));
}

export function workloads(objects: K8sObject[]): Workload[] {
  const found: Workload[] = [];
  for (const object of objects) {
    if (is(object, 'Deployment', 'apps')) {
      const podSpec = at(object, 'spec', 'template', 'spec');
      const declared = numberAt(object, 'spec', 'replicas');
      const autoscaled = autoscalerMinimum(objects, object);
      const cdc =
        labelsAt(object, 'spec', 'template', 'metadata', 'labels')['app.kubernetes.io/component'] === 'cdc';
      found.push({
        object,
        replicas: autoscaled ?? declared ?? 1,
        ...(cdc ? { exactReplicas: 2 } : {}),
        spread: records(at(podSpec, 'topologySpreadConstraints')),
        budget: { podLabels: labelsAt(object, 'spec', 'template', 'metadata', 'labels') },
      });
    } else if (is(object, 'Cluster', 'postgresql.cnpg.io')) {
      found.push({
        object,
        replicas: numberAt(object, 'spec', 'instances') ?? 1,
        spread: records(at(object, 'spec', 'topologySpreadConstraints')),
        budget:
          at(object, 'spec', 'enablePDB') === false
            ? { operator: false, reason: 'spec.enablePDB is false' }
            : { operator: true },
        resources: [{ where: 'spec.resources', value: at(object, 'spec', 'resources') }],
      });
    } else if (is(object, 'Pooler', 'postgresql.cnpg.io')) {
      const podSpec = at(object, 'spec', 'template', 'spec');
      found.push({
        object,
        replicas: numberAt(object, 'spec', 'instances') ?? 1,
        spread: records(at(podSpec, 'topologySpreadConstraints')),
        budget: { podLabels: { 'cnpg.io/poolerName': object.metadata.name } },
        resources: containerResources(podSpec),
      });
    } else if (is(object, 'Dragonfly', 'dragonflydb.io')) {
      found.push({
        object,
        replicas: numberAt(object, 'spec', 'replicas') ?? 1,
        spread: records(at(object, 'spec', 'topologySpreadConstraints')),
        budget: isRecord(at(object, 'spec', 'pdb'))
          ? { operator: true }
          : { operator: false, reason: 'spec.pdb is not set' },
        resources: [{ where: 'spec.resources', value: at(object, 'spec', 'resources') }],
      });
    } else if (is(object, 'Tenant', 'minio.min.io')) {
      const pools = records(at(object, 'spec', 'pools'));
      found.push({
        object,
        replicas: Math.min(...pools.map((pool) => numberAt(pool, 'servers') ?? 0)),
        // Every pool must spread: keep only the constraints all pools share.
        spread:
          pools.length === 0
            ? []
            : records(at(pools[0], 'topologySpreadConstraints')).filter((constraint) =>
                pools.every((pool) =>
                  records(at(pool, 'topologySpreadConstraints')).some(
                    (other) => other['topologyKey'] === constraint['topologyKey'],
                  ),
                ),
              ),
        budget: { podLabels: { 'v1.min.io/tenant': object.metadata.name } },
        resources: pools.map((pool) => ({
          where: `pool ${stringAt(pool, 'name') ?? '?'}`,
          value: pool['resources'],
        })),
      });
    } else if (is(object, 'RabbitmqCluster', 'rabbitmq.com')) {
      found.push({
        object,
        replicas: numberAt(object, 'spec', 'replicas') ?? 1,
        spread: records(
          at(
            object,
            'spec',
            'override',
            'statefulSet',
            'spec',
            'template',
            'spec',
            'topologySpreadConstraints',
          ),
        ),
        budget: { podLabels: { 'app.kubernetes.io/name': object.metadata.name } },
        resources: [{ where: 'spec.resources', value: at(object, 'spec', 'resources') }],
      });
    }
  }
  return found;
}

function checkWorkload(workload: Workload, objects: K8sObject[]): Violation[] {
  const violations: Violation[] = [];
  const name = describe(workload.object);
  const add = (rule: Violation['rule'], message: string) => violations.push({ rule, object: name, message });

  if (workload.exactReplicas !== undefined) {
    if (
      workload.replicas !== workload.exactReplicas ||
      autoscalerMinimum(objects, workload.object) !== undefined
    ) {
      add(
        'replicas',
        `${name}: must run exactly ${workload.exactReplicas} replicas (one active, one standby), found ${workload.replicas}`,
      );
    }
  } else if (workload.replicas < 2) {
    add('replicas', `${name}: must run at least 2 replicas, found ${workload.replicas}`);
  }

  for (const key of [ZONE, HOSTNAME]) {
    if (!workload.spread.some((constraint) => constraint['topologyKey'] === key)) {
      add('topology-spread', `${name}: no topologySpreadConstraint over ${key}`);
    }
  }

  if ('podLabels' in workload.budget) {
    const labels = workload.budget.podLabels;
    const budgets = objects.filter(
      (o) => is(o, 'PodDisruptionBudget', 'policy') && selects(at(o, 'spec', 'selector'), labels),
    );
    if (budgets.length === 0) add('disruption-budget', `${name}: no PodDisruptionBudget selects its pods`);
    if (budgets.length > 1) {
      add(
        'disruption-budget',
        `${name}: ${budgets.length} PodDisruptionBudgets select its pods (evictions fail)`,
      );
    }
  } else if (!workload.budget.operator) {
    add(
      'disruption-budget',
      `${name}: the operator makes no PodDisruptionBudget (${workload.budget.reason ?? ''})`,
    );
  }

  if (workload.resources?.length === 0) add('resources', `${name}: no resources declared`);
  for (const { where, value } of workload.resources ?? []) {
    for (const [section, key] of [
      ['requests', 'cpu'],
      ['requests', 'memory'],
      ['limits', 'cpu'],
      ['limits', 'memory'],
    ] as const) {
      if (at(value, section, key) === undefined)
        add('resources', `${name}: ${where} has no resources.${section}.${key}`);
    }
  }
  return violations;
}

/** Every pod spec in an object (Deployments, Jobs, CronJobs), with where it sits. */
function podSpecs(object: K8sObject): Json[] {
  if (is(object, 'Deployment', 'apps') || is(object, 'StatefulSet', 'apps') || is(object, 'Job', 'batch')) {
    const spec = at(object, 'spec', 'template', 'spec');
    return isRecord(spec) ? [spec] : [];
  }
  if (is(object, 'CronJob', 'batch')) {
    const spec = at(object, 'spec', 'jobTemplate', 'spec', 'template', 'spec');
    return isRecord(spec) ? [spec] : [];
  }
  return [];
}

function checkPods(object: K8sObject): Violation[] {
  const violations: Violation[] = [];
  const name = describe(object);
  const add = (rule: Violation['rule'], message: string) => violations.push({ rule, object: name, message });
  const longRunning = is(object, 'Deployment', 'apps') || is(object, 'StatefulSet', 'apps');

  for (const pod of podSpecs(object)) {
    const podNonRoot = at(pod, 'securityContext', 'runAsNonRoot') === true;
    const containers = [...records(pod['initContainers']), ...records(pod['containers'])];
    for (const container of containers) {
      const where = `${name}: container ${stringAt(container, 'name') ?? '?'}`;
      const security = container['securityContext'];
      if (!podNonRoot && at(security, 'runAsNonRoot') !== true)
        add('security-context', `${where}: runAsNonRoot must be true`);
      if (at(security, 'allowPrivilegeEscalation') !== false) {
        add('security-context', `${where}: allowPrivilegeEscalation must be false`);
      }
      if (at(security, 'readOnlyRootFilesystem') !== true) {
        add('security-context', `${where}: readOnlyRootFilesystem must be true`);
      }
      const drop = at(security, 'capabilities', 'drop');
      if (!Array.isArray(drop) || !drop.includes('ALL'))
        add('security-context', `${where}: capabilities must drop ALL`);
      if (at(security, 'privileged') === true) add('security-context', `${where}: must not be privileged`);

      const resources = container['resources'];
      for (const [section, key] of [
        ['requests', 'cpu'],
        ['requests', 'memory'],
        ['limits', 'memory'],
      ] as const) {
        if (at(resources, section, key) === undefined)
          add('resources', `${where}: no resources.${section}.${key}`);
      }

      if (longRunning && !records(pod['initContainers']).includes(container)) {
        const expected = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' };
        const ports = records(container['ports']);
        for (const [probe, path] of Object.entries(expected)) {
          const spec = container[probe];
          if (!isRecord(spec)) {
            add('probes', `${where}: no ${probe}`);
            continue;
          }
          // The path itself; a query may narrow it (the API's /readyz?exclude=postgres).
          const httpPath = stringAt(spec, 'httpGet', 'path')?.split('?')[0];
          const port = at(spec, 'httpGet', 'port');
          if (httpPath !== path)
            add('probes', `${where}: ${probe} must GET ${path}, found ${httpPath ?? 'none'}`);
          const declared = ports.some((p) => p['name'] === port || p['containerPort'] === port);
          if (!declared)
            add('probes', `${where}: ${probe} port ${String(port)} is not a declared container port`);
        }
        violations.push(...checkGrace(object, pod, container, where));
      }
    }
  }
  return violations;
}

/** A process that drains for SHUTDOWN_GRACE_MS must be given that long, plus its preStop pause. */
function checkGrace(object: K8sObject, pod: Json, container: Json, where: string): Violation[] {
  const graceMs = records(container['env']).find((e) => e['name'] === 'SHUTDOWN_GRACE_MS');
  if (!graceMs) return [];
  const drainSeconds = Number(stringAt(graceMs, 'value') ?? '10000') / 1000;
  const preStop = numberAt(container, 'lifecycle', 'preStop', 'sleep', 'seconds') ?? 0;
  const termination = numberAt(pod, 'terminationGracePeriodSeconds') ?? 30;
  if (termination > preStop + drainSeconds) return [];
  return [
    {
      rule: 'termination-grace',
      object: describe(object),
      message: `${where}: terminationGracePeriodSeconds ${termination} must exceed preStop ${preStop} s + SHUTDOWN_GRACE_MS ${drainSeconds} s`,
    },
  ];
}

function checkSecret(object: K8sObject): Violation[] {
  if (!is(object, 'Secret')) return [];
  const literal = (['data', 'stringData'] as const).filter((key) => {
    const value = object[key];
    return isRecord(value) && Object.keys(value).length > 0;
  });
  return literal.map((key) => ({
    rule: 'secret-literal' as const,
    object: describe(object),
    message: `${describe(object)}: literal secret ${key} in the manifests (use an ExternalSecret or a SealedSecret)`,
  }));
}

/** Every image reference in an object: containers anywhere, and the operators' image fields. */
function images(value: unknown, path = ''): { path: string; image: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => images(item, `${path}[${index}]`));
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    (key === 'image' || key === 'imageName') && typeof child === 'string'
      ? [{ path: `${path}.${key}`, image: child }]
      : images(child, `${path}.${key}`),
  );
}

export function imageTag(reference: string): { tag?: string; digest?: string } {
  const [name, digest] = reference.split('@', 2) as [string, string | undefined];
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  const tag = colon === -1 ? undefined : name.slice(colon + 1);
  return { ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

function checkImages(object: K8sObject): Violation[] {
  // Skip the last-applied and ConfigMap contents: only fields that name an image.
  if (is(object, 'ConfigMap') || is(object, 'Secret')) return [];
  const violations: Violation[] = [];
  for (const { path, image } of images(object)) {
    const { tag, digest } = imageTag(image);
    if (digest !== undefined) continue;
    if (tag === undefined) {
      violations.push({
        rule: 'image-pinned',
        object: describe(object),
        message: `${describe(object)}: image ${image} at ${path} has no tag or digest`,
      });
    } else if (tag === 'latest') {
      violations.push({
        rule: 'image-pinned',
        object: describe(object),
        message: `${describe(object)}: image ${image} at ${path} uses the moving tag latest`,
      });
    }
  }
  return violations;
}

function checkWalLevel(objects: K8sObject[]): Violation[] {
  const clusters = objects.filter((o) => is(o, 'Cluster', 'postgresql.cnpg.io'));
  if (clusters.length === 0) {
    return [{ rule: 'wal-level', object: 'Cluster', message: 'no CloudNativePG Cluster in the manifests' }];
  }
  return clusters.flatMap((cluster) => {
    const level = stringAt(cluster, 'spec', 'postgresql', 'parameters', 'wal_level');
    return level === 'logical'
      ? []
      : [
          {
            rule: 'wal-level' as const,
            object: describe(cluster),
            message: `${describe(cluster)}: postgresql.parameters.wal_level must be logical (the CDC decodes the WAL), found ${level ?? 'unset'}`,
          },
        ];
  });
}

/**
 * The AMQP target settings MinIO reads (minio internal/event/target/amqp.go), without the
 * `_<target>` suffix; the flags among them count as set only when "on" (config.EnableOn).
 */
const MINIO_AMQP_FLAGS = [
  'MANDATORY',
  'IMMEDIATE',
  'DURABLE',
  'INTERNAL',
  'NO_WAIT',
  'AUTO_DELETED',
  'PUBLISHING_CONFIRMS',
];
const MINIO_AMQP_SETTINGS = [
  ...['ENABLE', 'URL', 'EXCHANGE', 'ROUTING_KEY', 'EXCHANGE_TYPE', 'DELIVERY_MODE'],
  ...MINIO_AMQP_FLAGS,
  ...['QUEUE_DIR', 'QUEUE_LIMIT'],
];

/** `export NAME="value"` lines of a config.env, as the operator's sidecar parses them. */
function configEnvExports(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) found.set(match[1] as string, (match[2] as string).replace(/^"|"$/g, ''));
  }
  return found;
}

/**
 * The template a Secret of this name is made from (its metadata and unencrypted data): an
 * ExternalSecret's spec.target.template or a SealedSecret's spec.template, as the manifests
 * hold no Secret with literal data (secret-literal).
 */
function secretTemplate(objects: K8sObject[], name: string): unknown {
  for (const o of objects) {
    if (
      is(o, 'ExternalSecret', 'external-secrets.io') &&
      (stringAt(o, 'spec', 'target', 'name') ?? o.metadata.name) === name
    ) {
      return at(o, 'spec', 'target', 'template');
    }
    if (is(o, 'SealedSecret', 'bitnami.com') && o.metadata.name === name) return at(o, 'spec', 'template');
  }
  return undefined;
}

/**
 * A MinIO Tenant's settings as MinIO will see them: the operator writes spec.env into the
 * server's config.env with literal values only (minio/operator pkg/configuration/
 * tenant_configuration.go: a valueFrom becomes "", nothing expands $(VAR); issue #2279), and
 * the configuration secret's config.env (here an ExternalSecret template) wins over it.
 */
function checkMinioConfig(objects: K8sObject[]): Violation[] {
  const violations: Violation[] = [];
  for (const tenant of objects.filter((o) => is(o, 'Tenant', 'minio.min.io'))) {
    const name = describe(tenant);
    const bad = (message: string) =>
      violations.push({ rule: 'minio-config', object: name, message: `${name}: ${message}` });
    const settings = new Map<string, string>();
    for (const entry of records(at(tenant, 'spec', 'env'))) {
      const variable = stringAt(entry, 'name') ?? '?';
      if (entry['valueFrom'] !== undefined) {
        bad(`env ${variable} uses valueFrom, which the operator writes into config.env as an empty string`);
      }
      const value = stringAt(entry, 'value') ?? '';
      if (value.includes('$(')) bad(`env ${variable} refers to $(...), which nothing expands in config.env`);
      settings.set(variable, value);
    }
    const secretName = stringAt(tenant, 'spec', 'configuration', 'name') ?? '';
    const template = stringAt(secretTemplate(objects, secretName), 'data', 'config.env');
    for (const [variable, value] of configEnvExports(template ?? '')) settings.set(variable, value);

    for (const [variable, value] of settings) {
      const amqp = /^MINIO_NOTIFY_AMQP_(.+)_([A-Za-z0-9]+)$/.exec(variable);
      if (!amqp) continue;
      const setting = amqp[1] as string;
      if (!MINIO_AMQP_SETTINGS.includes(setting)) {
        bad(
          `${variable} is not a setting MinIO reads (its AMQP target knows ${MINIO_AMQP_SETTINGS.join(', ')})`,
        );
      } else if (MINIO_AMQP_FLAGS.includes(setting) && value !== 'on') {
        bad(`${variable} is "${value}": MinIO turns it on only for "on"`);
      }
    }
    for (const [variable, value] of settings) {
      const target = /^MINIO_NOTIFY_AMQP_ENABLE_([A-Za-z0-9]+)$/.exec(variable)?.[1];
      if (!target || !['on', 'true'].includes(value)) continue;
      const url = settings.get(`MINIO_NOTIFY_AMQP_URL_${target}`) ?? '';
      if (!/^amqps?:\/\/[^:@/]+:[^@/]+@/.test(url)) {
        bad(`AMQP target ${target} has no URL with credentials in config.env (found "${url}")`);
      }
    }
    // Parity may not exceed half the drives of an erasure set (minio internal/config/
    // storageclass, validateParity); the server refuses to start otherwise.
    const parity = /^EC:(\d+)$/.exec(settings.get('MINIO_STORAGE_CLASS_STANDARD') ?? '')?.[1];
    if (parity !== undefined) {
      for (const pool of records(at(tenant, 'spec', 'pools'))) {
        const drives = (numberAt(pool, 'servers') ?? 0) * (numberAt(pool, 'volumesPerServer') ?? 0);
        const erasureSet = Math.min(drives, 16);
        if (Number(parity) > erasureSet / 2) {
          bad(
            `parity EC:${parity} exceeds half the ${drives} drives of pool ${stringAt(pool, 'name') ?? '?'}: MinIO will not start`,
          );
        }
      }
    }
  }
  return violations;
}

/** Does some NetworkPolicy selecting these pods let pods with `from` labels reach `port`? */
function ingressAllowed(
  objects: K8sObject[],
  to: Record<string, string>,
  from: Record<string, string>,
  port: number,
) {
  const policies = objects.filter((o) => is(o, 'NetworkPolicy') && selects(at(o, 'spec', 'podSelector'), to));
  if (policies.length === 0) return true;
  return policies.some((policy) =>
    records(at(policy, 'spec', 'ingress')).some((rule) => {
      const peers = records(rule['from']);
      const peerOk =
        peers.length === 0 ||
        peers.some((peer) => peer['namespaceSelector'] === undefined && selects(peer['podSelector'], from));
      const ports = records(rule['ports']);
      const portOk = ports.length === 0 || ports.some((p) => p['port'] === port);
      return peerOk && portOk;
    }),
  );
}

/**
 * CloudNativePG's primary isolation check: a primary that cannot reach the API server pings
 * the other instances on their status port (8000) and restarts if none answers
 * (pkg/management/postgres/webserver/probes/pinger.go). Network policies that let the
 * instances talk on 5432 only make every primary take itself for isolated.
 */
function checkCnpgStatusPort(objects: K8sObject[]): Violation[] {
  return objects
    .filter((o) => is(o, 'Cluster', 'postgresql.cnpg.io'))
    .flatMap((cluster) => {
      const instance = { 'cnpg.io/cluster': cluster.metadata.name, 'cnpg.io/podRole': 'instance' };
      return ingressAllowed(objects, instance, instance, 8000)
        ? []
        : [
            {
              rule: 'cnpg-status-port' as const,
              object: describe(cluster),
              message: `${describe(cluster)}: network policies do not let its instances reach each other on the status port 8000 (primary isolation check)`,
            },
          ];
    });
}

/**
 * A PodDisruptionBudget must say how it treats pods that are not ready: the stateless app's
 * and the pooler's AlwaysAllow (a failover makes every API pod unready for a moment, and a
 * drain must not wait for that), quorum-based services IfHealthyBudget, on purpose.
 */
function checkEvictionPolicy(object: K8sObject): Violation[] {
  if (!is(object, 'PodDisruptionBudget')) return [];
  const policy = stringAt(object, 'spec', 'unhealthyPodEvictionPolicy');
  const labels = labelsAt(at(object, 'spec', 'selector'), 'matchLabels');
  const stateless = labels['app.kubernetes.io/name'] === 'crs' || 'cnpg.io/poolerName' in labels;
  const wanted = stateless ? 'AlwaysAllow' : undefined;
  if (policy === undefined || (wanted !== undefined && policy !== wanted)) {
    return [
      {
        rule: 'eviction-policy',
        object: describe(object),
        message: `${describe(object)}: unhealthyPodEvictionPolicy must be ${wanted ?? 'set'}, found ${policy ?? 'unset'}`,
      },
    ];
  }
  return [];
}

/**
 * CloudNativePG applies a managed role's changed password only from a Secret labelled
 * cnpg.io/reload: without it a rotated password reaches the app but not Postgres.
 */
function checkCnpgReload(objects: K8sObject[]): Violation[] {
  const secrets = objects
    .filter((o) => is(o, 'Cluster', 'postgresql.cnpg.io'))
    .flatMap((cluster) =>
      records(at(cluster, 'spec', 'managed', 'roles')).map((role) =>
        stringAt(role, 'passwordSecret', 'name'),
      ),
    )
    .filter((name): name is string => name !== undefined);
  return secrets.flatMap((name) => {
    const labels = labelsAt(secretTemplate(objects, name), 'metadata', 'labels');
    return labels['cnpg.io/reload'] === undefined
      ? [
          {
            rule: 'cnpg-reload' as const,
            object: `Secret/${name}`,
            message: `Secret/${name}: a managed role's password Secret must be labelled cnpg.io/reload`,
          },
        ]
      : [];
  });
}

/** Bytes in a PostgreSQL size setting ("8GB", "512MB") or a Kubernetes quantity ("24Gi"). */
export function bytesOf(size: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(kB|MB|GB|TB|Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(size ?? '');
  if (!match) return undefined;
  const unit = match[2] ?? '';
  const binary: Record<string, number> = { kB: 1, MB: 2, GB: 3, TB: 4, Ki: 1, Mi: 2, Gi: 3, Ti: 4 };
  const decimal: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };
  const power = binary[unit] ?? decimal[unit] ?? 0;
  return Number(match[1]) * (unit in binary ? 1024 : 1000) ** power;
}

/**
 * The WAL volume must hold what the settings may keep (a lagging slot up to
 * max_slot_wal_keep_size, wal_keep_size, max_wal_size between checkpoints) with room to spare,
 * since WAL waiting for a failing archive has no cap: at least 1.5 times their sum, and the slot
 * cap must be set (-1, the default, keeps WAL for ever).
 */
function checkWalHeadroom(objects: K8sObject[]): Violation[] {
  return objects
    .filter((o) => is(o, 'Cluster', 'postgresql.cnpg.io'))
    .flatMap((cluster) => {
      const setting = (name: string) => stringAt(cluster, 'spec', 'postgresql', 'parameters', name);
      const slotCap = bytesOf(setting('max_slot_wal_keep_size'));
      const kept = bytesOf(setting('wal_keep_size') ?? '0') ?? 0;
      const maxWal = bytesOf(setting('max_wal_size') ?? '1GB') ?? 0;
      const volume = bytesOf(
        stringAt(cluster, 'spec', 'walStorage', 'size') ?? stringAt(cluster, 'spec', 'storage', 'size'),
      );
      const wanted = slotCap === undefined ? undefined : 1.5 * (slotCap + kept + maxWal);
      if (wanted !== undefined && volume !== undefined && volume >= wanted) return [];
      const gib = (n: number | undefined) => (n === undefined ? '?' : `${(n / 1024 ** 3).toFixed(1)} GiB`);
      return [
        {
          rule: 'wal-headroom' as const,
          object: describe(cluster),
          message:
            slotCap === undefined
              ? `${describe(cluster)}: max_slot_wal_keep_size must be set (a slot nobody reads would keep WAL for ever)`
              : `${describe(cluster)}: the WAL volume (${gib(volume)}) must hold 1.5 x (slot cap + wal_keep_size + max_wal_size) = ${gib(wanted)}`,
        },
      ];
    });
}

/**
 * A Job's pod template is immutable: the migrate Job of a new release must be a new object,
 * named for the release of the image it runs (crs-migrate-<tag, dots as dashes>).
 */
function checkMigratePerRelease(object: K8sObject): Violation[] {
  if (
    !is(object, 'Job') ||
    labelsAt(object, 'metadata', 'labels')['app.kubernetes.io/component'] !== 'migrate'
  ) {
    return [];
  }
  const image = stringAt(records(at(object, 'spec', 'template', 'spec', 'containers'))[0], 'image') ?? '';
  const { tag } = imageTag(image);
  const wanted = `crs-migrate-${(tag ?? 'untagged').replace(/[^a-z0-9-]/gi, '-').toLowerCase()}`;
  return object.metadata.name === wanted
    ? []
    : [
        {
          rule: 'migrate-per-release',
          object: describe(object),
          message: `${describe(object)}: runs ${image}, so it must be named ${wanted} (a new Job per release)`,
        },
      ];
}

/**
 * Dragonfly's admin port (9999) takes commands without authentication; the operator drives
 * replication through it. The app's pods must not reach it (only its peers, the operator and
 * Prometheus).
 */
function checkDragonflyAdmin(objects: K8sObject[]): Violation[] {
  return objects
    .filter((o) => is(o, 'Dragonfly', 'dragonflydb.io'))
    .flatMap((dragonfly) => {
      const pods = { app: dragonfly.metadata.name };
      const open = ['api', 'cdc', 'renderer'].filter((component) =>
        ingressAllowed(
          objects,
          pods,
          { 'app.kubernetes.io/name': 'crs', 'app.kubernetes.io/component': component },
          9999,
        ),
      );
      return open.length === 0
        ? []
        : [
            {
              rule: 'dragonfly-admin' as const,
              object: describe(dragonfly),
              message: `${describe(dragonfly)}: its admin port 9999 is reachable from the app (${open.join(', ')})`,
            },
          ];
    });
}

const TOPOLOGY_LABEL = 'rabbitmq.com/topology-operator';

/** The remote keys (secret store paths) an ExternalSecret reads. */
function remoteKeys(externalSecret: unknown): string[] {
  return records(at(externalSecret, 'spec', 'data')).flatMap(
    (entry) => stringAt(entry, 'remoteRef', 'key') ?? [],
  );
}

/**
 * One RabbitMQ user per component, with the least permissions (deploy/kubernetes/base/
 * rabbitmq/users.yaml): no pod and no MinIO configuration uses the default user (the
 * administrator the operators log in with); each User's credentials come from a Secret the
 * messaging topology operator can see (its cache holds only Secrets labelled
 * rabbitmq.com/topology-operator: "true", cmd/main.go); every User has a Permission that names
 * its resources (no ".*") and no tags (no management access); no two components share one.
 */
function checkRabbitmqUsers(objects: K8sObject[]): Violation[] {
  const violations: Violation[] = [];
  const bad = (object: string, message: string) =>
    violations.push({ rule: 'rabbitmq-users', object, message: `${object}: ${message}` });
  const clusters = objects.filter((o) => is(o, 'RabbitmqCluster', 'rabbitmq.com'));
  if (clusters.length === 0) return [];
  // The default user's Secret: the operator's <name>-default-user, or the one given to it.
  const defaultSecrets = new Set(
    clusters
      .flatMap((c) => [
        `${c.metadata.name}-default-user`,
        stringAt(c, 'spec', 'secretBackend', 'externalSecret', 'name') ?? [],
      ])
      .flat(),
  );
  const defaultRemoteKeys = new Set(
    objects
      .filter((o) => is(o, 'ExternalSecret', 'external-secrets.io'))
      .filter((o) => defaultSecrets.has(stringAt(o, 'spec', 'target', 'name') ?? o.metadata.name))
      .flatMap(remoteKeys),
  );

  const users = objects.filter((o) => is(o, 'User', 'rabbitmq.com'));
  const userSecrets = new Map<string, string>();
  for (const user of users) {
    const name = describe(user);
    const secret = stringAt(user, 'spec', 'importCredentialsSecret', 'name');
    if (!secret) {
      bad(
        name,
        'has no importCredentialsSecret: its password would be made up by the operator, not kept in the secret store',
      );
      continue;
    }
    userSecrets.set(secret, user.metadata.name);
    const labels = labelsAt(secretTemplate(objects, secret), 'metadata', 'labels');
    if (labels[TOPOLOGY_LABEL] !== 'true') {
      bad(
        name,
        `its Secret ${secret} is not labelled ${TOPOLOGY_LABEL}: "true", so the topology operator cannot see it`,
      );
    }
    const tags = at(user, 'spec', 'tags');
    if (Array.isArray(tags) && tags.length > 0) {
      bad(name, 'has tags: a component needs no management access');
    }
    const permissions = objects.filter(
      (o) =>
        is(o, 'Permission', 'rabbitmq.com') &&
        stringAt(o, 'spec', 'userReference', 'name') === user.metadata.name,
    );
    if (permissions.length !== 1) bad(name, `has ${permissions.length} Permissions, wanted exactly one`);
    for (const permission of permissions) {
      for (const kind of ['configure', 'write', 'read']) {
        const pattern = stringAt(permission, 'spec', 'permissions', kind) ?? '';
        // Anchored at both ends, and no alternative that is a bare wildcard (".*" or ".+"):
        // a prefix such as amq\.gen-.* (server-named queues) is a name.
        const alternatives = pattern.replace(/^\^\(?|\)?\$$/g, '').split('|');
        if (!/^\^.*\$$/.test(pattern) || alternatives.some((a) => a === '.*' || a === '.+')) {
          bad(
            describe(permission),
            `${kind} "${pattern}" does not name its resources (anchored, no bare .*)`,
          );
        }
      }
    }
  }

  const readers = new Map<string, string[]>();
  for (const object of objects) {
    for (const pod of podSpecs(object)) {
      for (const container of [...records(pod['initContainers']), ...records(pod['containers'])]) {
        for (const entry of records(container['env'])) {
          const secret = stringAt(entry, 'valueFrom', 'secretKeyRef', 'name');
          if (!secret) continue;
          const where = `${describe(object)}: container ${stringAt(container, 'name') ?? '?'}`;
          if (defaultSecrets.has(secret))
            bad(where, `reads ${secret}, the RabbitMQ default (administrator) user`);
          else if (userSecrets.has(secret))
            readers.set(secret, [...(readers.get(secret) ?? []), describe(object)]);
        }
      }
    }
  }
  for (const [secret, by] of readers) {
    const distinct = [...new Set(by)];
    if (distinct.length > 1)
      bad(`Secret/${secret}`, `RabbitMQ user ${userSecrets.get(secret)} is shared by ${distinct.join(', ')}`);
  }
  for (const tenant of objects.filter((o) => is(o, 'Tenant', 'minio.min.io'))) {
    const secret = stringAt(tenant, 'spec', 'configuration', 'name') ?? '';
    const config = objects.find(
      (o) =>
        is(o, 'ExternalSecret', 'external-secrets.io') &&
        (stringAt(o, 'spec', 'target', 'name') ?? o.metadata.name) === secret,
    );
    const shared = remoteKeys(config).filter((key) => defaultRemoteKeys.has(key));
    if (shared.length > 0) {
      bad(
        describe(tenant),
        `its notification target logs in to RabbitMQ as the default user (${shared.join(', ')})`,
      );
    }
  }
  return violations;
}

const BARMAN_PLUGIN = 'barman-cloud.cloudnative-pg.io';

/**
 * Postgres backups through the Barman Cloud plugin (the in-tree barmanObjectStore is deprecated
 * since CloudNativePG 1.26 and to be removed): each Cluster archives WAL with the plugin into an
 * ObjectStore of the manifests, whose credentials exist and which keeps a retention policy, and
 * every ScheduledBackup of it goes through the plugin (a barmanObjectStore backup of a Cluster
 * without that section fails).
 */
function checkBackupPlugin(objects: K8sObject[]): Violation[] {
  const violations: Violation[] = [];
  const bad = (object: string, message: string) =>
    violations.push({ rule: 'backup-plugin', object, message: `${object}: ${message}` });
  const clusters = objects.filter((o) => is(o, 'Cluster', 'postgresql.cnpg.io'));
  for (const cluster of clusters) {
    const name = describe(cluster);
    if (at(cluster, 'spec', 'backup', 'barmanObjectStore') !== undefined) {
      bad(name, 'uses the deprecated in-tree spec.backup.barmanObjectStore; use the Barman Cloud plugin');
    }
    const archivers = records(at(cluster, 'spec', 'plugins')).filter(
      (plugin) => stringAt(plugin, 'name') === BARMAN_PLUGIN && plugin['isWALArchiver'] === true,
    );
    if (archivers.length !== 1) {
      bad(name, `has ${archivers.length} ${BARMAN_PLUGIN} plugins archiving WAL, wanted exactly one`);
      continue;
    }
    const storeName = stringAt(archivers[0], 'parameters', 'barmanObjectName') ?? '';
    const store = objects.find(
      (o) => is(o, 'ObjectStore', 'barmancloud.cnpg.io') && o.metadata.name === storeName,
    );
    if (!store) {
      bad(name, `archives to ObjectStore "${storeName}", which is not in the manifests`);
      continue;
    }
    if (!stringAt(store, 'spec', 'retentionPolicy'))
      bad(describe(store), 'has no retentionPolicy: backups pile up');
    for (const ref of ['accessKeyId', 'secretAccessKey']) {
      const secret = stringAt(store, 'spec', 'configuration', 's3Credentials', ref, 'name');
      const made = objects.some(
        (o) =>
          (is(o, 'ExternalSecret', 'external-secrets.io') &&
            (stringAt(o, 'spec', 'target', 'name') ?? o.metadata.name) === secret) ||
          (is(o, 'SealedSecret', 'bitnami.com') && o.metadata.name === secret),
      );
      if (secret && !made)
        bad(describe(store), `its ${ref} Secret ${secret} is made by nothing in the manifests`);
    }
    for (const backup of objects.filter(
      (o) =>
        is(o, 'ScheduledBackup', 'postgresql.cnpg.io') &&
        stringAt(o, 'spec', 'cluster', 'name') === cluster.metadata.name,
    )) {
      if (
        stringAt(backup, 'spec', 'method') !== 'plugin' ||
        stringAt(backup, 'spec', 'pluginConfiguration', 'name') !== BARMAN_PLUGIN
      ) {
        bad(describe(backup), `must use method plugin with pluginConfiguration.name ${BARMAN_PLUGIN}`);
      }
    }
  }
  return violations;
}

/** RabbitMQ deletes a stream's oldest segment whole: retention may run one segment (500 MB) over. */
const STREAM_SEGMENT_BYTES = 500_000_000;

/**
 * Each RabbitMQ node keeps a replica of the change feed's stream: its volume must hold 1.5 x
 * (CHANGE_STREAM_MAX_BYTES + one segment), and keep disk_free_limit free besides (RabbitMQ
 * blocks every publisher below it; relative is a multiple of the memory limit).
 */
function checkStreamStorage(objects: K8sObject[]): Violation[] {
  const config = objects.find((o) => is(o, 'ConfigMap') && /^crs-config(-|$)/.test(o.metadata.name));
  const stream = stringAt(config, 'data', 'CHANGE_STREAM');
  const maxBytes = Number(stringAt(config, 'data', 'CHANGE_STREAM_MAX_BYTES') ?? 1024 ** 3);
  if (!config || stream === 'off') return [];
  return objects
    .filter((o) => is(o, 'RabbitmqCluster', 'rabbitmq.com'))
    .flatMap((cluster) => {
      const volume = bytesOf(stringAt(cluster, 'spec', 'persistence', 'storage') ?? '10Gi') ?? 0;
      const memory = bytesOf(stringAt(cluster, 'spec', 'resources', 'limits', 'memory') ?? '2Gi') ?? 0;
      const conf = stringAt(cluster, 'spec', 'rabbitmq', 'additionalConfig') ?? '';
      const relative = /^\s*disk_free_limit\.relative\s*=\s*([\d.]+)/m.exec(conf)?.[1];
      const absolute = /^\s*disk_free_limit\.absolute\s*=\s*(\S+)/m.exec(conf)?.[1];
      const free = relative ? Number(relative) * memory : (bytesOf(absolute) ?? 50_000_000);
      const wanted = 1.5 * (maxBytes + STREAM_SEGMENT_BYTES) + free;
      if (volume >= wanted) return [];
      const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
      return [
        {
          rule: 'stream-storage' as const,
          object: describe(cluster),
          message: `${describe(cluster)}: its volume (${gib(volume)}) must hold 1.5 x (CHANGE_STREAM_MAX_BYTES + a 500 MB segment) + disk_free_limit = ${gib(wanted)}`,
        },
      ];
    });
}

/** Every policy over a rendered set of objects; an empty list means all hold. */
export function checkPolicies(objects: K8sObject[]): Violation[] {
  return [
    ...workloads(objects).flatMap((workload) => checkWorkload(workload, objects)),
    ...objects.flatMap(checkPods),
    ...objects.flatMap(checkSecret),
    ...objects.flatMap(checkImages),
    ...checkWalLevel(objects),
    ...checkCorrectness(objects),
  ];
}

/**
 * What must hold in every overlay, dev included (it is not about high availability): the
 * operators must be able to do what the manifests ask.
 */
export function checkCorrectness(objects: K8sObject[]): Violation[] {
  return [
    ...checkMinioConfig(objects),
    ...checkCnpgStatusPort(objects),
    ...objects.flatMap(checkEvictionPolicy),
    ...checkCnpgReload(objects),
    ...checkWalHeadroom(objects),
    ...objects.flatMap(checkMigratePerRelease),
    ...checkDragonflyAdmin(objects),
    ...checkRabbitmqUsers(objects),
    ...checkBackupPlugin(objects),
    ...checkStreamStorage(objects),
  ];
}
