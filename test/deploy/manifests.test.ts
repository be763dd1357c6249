/**
 * The Kubernetes manifests, checked offline (issue 6): every overlay renders with kustomize,
 * every rendered object validates against the strict schemas in k8s-schemas/ (a kind without a
 * schema fails), and the production overlay meets the high-availability and
 * hardening policies (policies.ts). Planted mistakes (fixtures/) show each check bites.
 * Needs kubectl (v1.27+, for kustomize v5) on the PATH; no cluster.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { at, describe, parseObjects, renderKustomization, type K8sObject } from './objects.js';
import { bytesOf, checkCorrectness, checkPolicies, imageTag, type Violation } from './policies.js';
import { KUBERNETES_VERSION, makeSchemaValidator, schemaPathFor } from './schemas.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const overlays = join(repoRoot, 'deploy', 'kubernetes', 'overlays');
const fixtures = join(here, 'fixtures');
const validate = makeSchemaValidator(join(here, 'k8s-schemas'));

const rendered = new Map<string, K8sObject[]>();
for (const overlay of readdirSync(overlays).sort()) {
  rendered.set(overlay, await renderKustomization(join(overlays, overlay)));
}
const prod = rendered.get('prod') ?? [];
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

t.test('there are a dev and a prod overlay, and both render', async (t) => {
  t.same([...rendered.keys()], ['dev', 'prod']);
  for (const [overlay, objects] of rendered) {
    t.ok(objects.length > 40, `${overlay}: ${objects.length} objects`);
    const names = objects.map(describe);
    t.equal(new Set(names).size, names.length, `${overlay}: no object twice`);
    t.ok(
      objects.every((o) => o.kind === 'Namespace' || o.metadata['namespace'] === 'crs'),
      `${overlay}: everything in namespace crs`,
    );
  }
});

t.test('every rendered object validates against its strict schema', async (t) => {
  for (const [overlay, objects] of rendered) {
    const errors = objects.flatMap(validate);
    t.same(errors, [], `${overlay}: ${objects.length} objects, no schema error`);
  }
});

t.test('schema lookup: built-in kinds in one file, each operator kind in its own', async (t) => {
  const core = `kubernetes-${KUBERNETES_VERSION}.json`;
  t.equal(schemaPathFor('apps/v1', 'Deployment'), core);
  t.equal(schemaPathFor('v1', 'Service'), core);
  t.equal(schemaPathFor('networking.k8s.io/v1', 'NetworkPolicy'), core);
  t.equal(schemaPathFor('autoscaling/v2', 'HorizontalPodAutoscaler'), core);
  t.equal(schemaPathFor('postgresql.cnpg.io/v1', 'Cluster'), join('postgresql.cnpg.io', 'cluster_v1.json'));
  t.equal(schemaPathFor('keda.sh/v1alpha1', 'ScaledObject'), join('keda.sh', 'scaledobject_v1alpha1.json'));
});

t.test('every schema file says where it comes from, and under which licence', async (t) => {
  const schemaDir = join(here, 'k8s-schemas');
  const sources = readFileSync(join(schemaDir, 'SOURCES.md'), 'utf8');
  const files = readdirSync(schemaDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.json'),
  );
  t.ok(files.length >= 17, `${files.length} schema files`);
  for (const file of files) {
    const [group, name] = file.includes('/') ? file.split('/') : ['', file];
    const row = sources.split('\n').find((line) => line.includes(name!) && line.includes(group!));
    t.ok(
      row && /\| (Apache-2\.0|MPL-2\.0|AGPL-3\.0) +\|$/.test(row),
      `${file}: source and licence in SOURCES.md`,
    );
  }
});

t.test('schema mistakes are caught, with the field named', async (t) => {
  const errorsOf = (file: string) =>
    parseObjects(readFileSync(join(fixtures, 'schema', file), 'utf8'), file).flatMap(validate);
  t.same(errorsOf('unknown-field.yaml'), ['Deployment/typo: /spec: unknown field "replica"']);
  t.same(errorsOf('unknown-operator-field.yaml'), ['Cluster/typo: /spec: unknown field "walLevel"']);
  t.same(errorsOf('wrong-type.yaml'), ['Service/wrong-type: /spec/ports/0/port: must be integer']);
  t.same(errorsOf('unknown-metadata-field.yaml'), ['Dragonfly/typo: /metadata: unknown field "label"']);
  t.same(errorsOf('unknown-kind.yaml'), [
    `Certificate/no-schema: no schema for cert-manager.io/v1 Certificate (looked in ${join('cert-manager.io', 'certificate_v1.json')})`,
  ]);
});

t.test('prod meets every high-availability and hardening policy', async (t) => {
  t.same(checkPolicies(prod), []);
});

t.test('every overlay asks the operators only what they do (MinIO config, CNPG status port)', async (t) => {
  for (const [overlay, objects] of rendered) t.same(checkCorrectness(objects), [], overlay);
  // MinIO's AMQP URL reaches config.env literally, from the secret store, with credentials.
  const minioEnv = find(prod, 'ExternalSecret', 'crs-minio-env');
  t.match(
    at(minioEnv, 'spec', 'target', 'template', 'data', 'config.env'),
    /export MINIO_NOTIFY_AMQP_URL_crs="amqp:\/\/\{\{ \.amqpUser \| urlquery \}\}:\{\{ \.amqpPassword \| urlquery \}\}@/,
  );
  // ... and they are RabbitMQ's default user's, which the cluster takes from the same place.
  t.equal(
    at(find(prod, 'RabbitmqCluster', 'crs-rabbitmq'), 'spec', 'secretBackend', 'externalSecret', 'name'),
    'crs-rabbitmq-default-user',
  );
  t.match(
    at(
      find(prod, 'ExternalSecret', 'crs-rabbitmq-default-user'),
      'spec',
      'target',
      'template',
      'data',
      'default_user.conf',
    ),
    /default_user = \{\{ \.user \}\}\ndefault_pass = \{\{ \.password \}\}/,
  );
});

t.test('prod runs what the issue asks for', async (t) => {
  const cluster = find(prod, 'Cluster', 'crs-pg');
  t.match(cluster, {
    spec: {
      instances: 3,
      postgresql: {
        parameters: { wal_level: 'logical', sync_replication_slots: 'on', hot_standby_feedback: 'on' },
      },
      replicationSlots: { highAvailability: { enabled: true, synchronizeLogicalDecoding: true } },
    },
  });
  const roles = (
    cluster?.['spec'] as { managed: { roles: { name: string; passwordSecret: { name: string } }[] } }
  ).managed.roles;
  t.same(
    roles.map((r) => [r.name, r.passwordSecret.name]),
    [
      ['crs_owner', 'crs-pg-owner'],
      ['crs_api', 'crs-pg-api'],
      ['crs_cdc', 'crs-pg-cdc'],
      ['crs_renderer', 'crs-pg-renderer'],
    ],
  );
  t.match(find(prod, 'Pooler', 'crs-pg-pooler-rw'), {
    spec: { type: 'rw', pgbouncer: { poolMode: 'transaction' } },
  });
  t.match(find(prod, 'ScheduledBackup', 'crs-pg-nightly'), { spec: { cluster: { name: 'crs-pg' } } });
  t.match(find(prod, 'Dragonfly', 'crs-dragonfly'), { spec: { replicas: 2 } });
  t.match(find(prod, 'RabbitmqCluster', 'crs-rabbitmq'), { spec: { replicas: 3 } });
  const tenant = find(prod, 'Tenant', 'crs-minio');
  t.ok(
    ((tenant?.['spec'] as { pools: { servers: number }[] }).pools[0]?.servers ?? 0) >= 4,
    'MinIO: 4 servers',
  );
  t.match(find(prod, 'HorizontalPodAutoscaler', 'crs-api'), { spec: { minReplicas: 3 } });
  t.match(find(prod, 'ScaledObject', 'crs-renderer'), {
    spec: { minReplicaCount: 2, triggers: [{ type: 'postgresql' }] },
  });
  t.match(find(prod, 'Deployment', 'crs-cdc'), { spec: { replicas: 2 } });
  t.ok(find(prod, 'Job', 'crs-migrate-0-1-0'), 'the migration Job, named for the release');
  t.ok(find(prod, 'Job', 'crs-minio-bucket-setup'), 'the bucket-setup Job');
  t.ok(find(prod, 'Ingress', 'crs-api'), 'the Ingress');
  t.match(find(prod, 'ConfigMap', 'crs-grafana-dashboard'), {
    metadata: { labels: { grafana_dashboard: '1' } },
  });
});

t.test('probes use the ports and paths the README names', async (t) => {
  // The API answers probes and metrics on a port of its own (API_PROBE_PORT), which the
  // Service behind the ingress does not expose; cdc and renderer have only such a port.
  const ports: Record<string, [string, number]> = {
    'crs-api': ['API_PROBE_PORT', 3100],
    'crs-cdc': ['CDC_PORT', 3001],
    'crs-renderer': ['RENDERER_PORT', 3002],
  };
  for (const [name, [variable, port]] of Object.entries(ports)) {
    const container = at(
      find(prod, 'Deployment', name),
      'spec',
      'template',
      'spec',
      'containers',
      0,
    ) as Record<string, unknown>;
    const probesPort = (container['ports'] as { name: string; containerPort: number }[]).find(
      (p) => p.name === 'probes',
    );
    t.equal(probesPort?.containerPort, port, `${name}: probes on ${port}`);
    const env = (container['env'] as { name: string; value?: string }[]).find((e) => e.name === variable);
    t.equal(env?.value, String(port), `${name}: ${variable}=${port}`);
    t.match(container, {
      // The API's probe leaves the shared database out (api/health/routes.ts); cdc and renderer
      // serve no traffic, their readiness is every dependency.
      readinessProbe: {
        httpGet: { path: name === 'crs-api' ? '/readyz?exclude=postgres' : '/readyz', port: 'probes' },
      },
      livenessProbe: { httpGet: { path: '/healthz', port: 'probes' } },
      startupProbe: { httpGet: { path: '/healthz', port: 'probes' } },
    });
  }
  const apiService = find(prod, 'Service', 'crs-api');
  t.same(
    (at(apiService, 'spec', 'ports') as { targetPort: string }[]).map((p) => p.targetPort),
    ['http'],
    'the Service behind the ingress exposes the API port only',
  );
  t.match(find(prod, 'ServiceMonitor', 'crs-api'), {
    spec: { endpoints: [{ port: 'probes', path: '/metrics' }] },
  });
});

t.test('alerts and the dashboard use metric names the code exports', async (t) => {
  const sources = ['http/metrics.ts', 'cdc/metrics.ts', 'renderer/metrics.ts'].map((file) =>
    readFileSync(join(repoRoot, file), 'utf8'),
  );
  const exported = new Set(
    sources.flatMap((source) => [...source.matchAll(/name: '(crs_[a-z_]+)'/g)].map((m) => m[1])),
  );
  t.ok(exported.size >= 20, `${exported.size} metrics exported`);
  const texts = [
    JSON.stringify(find(prod, 'PrometheusRule', 'crs')),
    JSON.stringify(find(prod, 'ConfigMap', 'crs-grafana-dashboard')),
  ];
  // Metric names, not label values such as slot_name="crs_cdc" (quoted).
  const used = new Set(
    texts.flatMap((text) => [...text.matchAll(/(?<![\w"])(crs_[a-z_]+)/g)].map((m) => m[1])),
  );
  const unknown = [...used].filter((metric) => {
    const base = metric!.replace(/_(bucket|sum|count)$/, '');
    return !exported.has(base) && !exported.has(metric!);
  });
  t.same(unknown, [], 'every crs_* metric in rules and dashboard is exported by the code');
  for (const metric of [
    'crs_cdc_replication_lag_bytes',
    'crs_cdc_stock_drift_products',
    'crs_cdc_oldest_unapplied_seconds',
    'crs_cdc_stock_repairs_total',
    'crs_renderer_jobs_failed_permanently_total',
    'crs_http_requests_total',
  ]) {
    t.ok(used.has(metric), `alerted on or shown: ${metric}`);
  }
});

t.test("alerts on the exporter's crs queries name a query and a column that exist", async (t) => {
  const queries = parse(
    readFileSync(join(repoRoot, 'deploy/kubernetes/base/postgres/monitoring-queries.yaml'), 'utf8'),
  ) as Record<string, { metrics: Record<string, { usage: string }>[] }>;
  const known = new Set(
    Object.entries(queries).flatMap(([query, { metrics }]) =>
      metrics.flatMap((metric) =>
        Object.entries(metric)
          .filter(([, { usage }]) => usage !== 'LABEL')
          .map(([column]) => `cnpg_${query}_${column}`),
      ),
    ),
  );
  const rules = JSON.stringify(find(prod, 'PrometheusRule', 'crs'));
  const used = [...new Set([...rules.matchAll(/cnpg_crs_[a-z_]+/g)].map((m) => m[0]))];
  t.ok(used.length >= 5, `${used.length} exporter metrics alerted on`);
  t.same(
    used.filter((metric) => !known.has(metric)),
    [],
    'each is a column of a query in monitoring-queries.yaml',
  );
  t.ok(used.includes('cnpg_crs_ha_slots_active'), 'a standby holding back logical decoding is alerted on');
});

t.test('dev relaxes only high availability, never hardening', async (t) => {
  const relaxed = new Set<Violation['rule']>(['replicas', 'topology-spread', 'disruption-budget']);
  const violations = checkPolicies(rendered.get('dev') ?? []);
  t.same(
    violations.filter((v) => !relaxed.has(v.rule)),
    [],
  );
});

t.test('sizes: PostgreSQL settings and Kubernetes quantities', async (t) => {
  t.equal(bytesOf('8GB'), 8 * 1024 ** 3);
  t.equal(bytesOf('512MB'), 512 * 1024 ** 2);
  t.equal(bytesOf('24Gi'), 24 * 1024 ** 3);
  t.equal(bytesOf('10G'), 10 * 1000 ** 3);
  t.equal(bytesOf('-1'), undefined);
});

t.test('image references: tags and digests are read correctly', async (t) => {
  t.same(imageTag('registry.example.com:5000/crs/crs'), {});
  t.same(imageTag('registry.example.com:5000/crs/crs:0.1.0'), { tag: '0.1.0' });
  t.same(imageTag('crs@sha256:abc'), { digest: 'sha256:abc' });
  t.same(imageTag('ghcr.io/cloudnative-pg/postgresql:17.6'), { tag: '17.6' });
});

t.test('every planted mistake is caught, with its message', async (t) => {
  const broken = await renderKustomization(join(fixtures, 'broken-prod'));
  t.same(broken.flatMap(validate), [], 'the broken overlay is still schema-valid: only policies catch it');
  const found = checkPolicies(broken).map((v) => `${v.rule}: ${v.message}`);
  t.same(found.sort(), [
    'backup-plugin: ObjectStore/crs-pg-backup: has no retentionPolicy: backups pile up',
    'backup-plugin: ScheduledBackup/crs-pg-nightly: must use method plugin with pluginConfiguration.name barman-cloud.cloudnative-pg.io',
    "cnpg-reload: Secret/crs-pg-cdc: a managed role's password Secret must be labelled cnpg.io/reload",
    'cnpg-status-port: Cluster/crs-pg: network policies do not let its instances reach each other on the status port 8000 (primary isolation check)',
    'disruption-budget: Deployment/crs-cdc: no PodDisruptionBudget selects its pods',
    'disruption-budget: Tenant/crs-minio: no PodDisruptionBudget selects its pods',
    'dragonfly-admin: Dragonfly/crs-dragonfly: its admin port 9999 is reachable from the app (api, cdc)',
    'eviction-policy: PodDisruptionBudget/crs-api: unhealthyPodEvictionPolicy must be AlwaysAllow, found unset',
    'image-pinned: Dragonfly/crs-dragonfly: image docker.dragonflydb.io/dragonflydb/dragonfly at .spec.image has no tag or digest',
    'image-pinned: Job/crs-minio-bucket-setup: image quay.io/minio/mc:latest at .spec.template.spec.containers[0].image uses the moving tag latest',
    'migrate-per-release: Job/crs-migrate-0-1-0: runs registry.example.com/crs/crs:0.2.0, so it must be named crs-migrate-0-2-0 (a new Job per release)',
    'minio-config: Tenant/crs-minio: MINIO_NOTIFY_AMQP_PUBLISHER_CONFIRMS_crs is not a setting MinIO reads (its AMQP target knows ENABLE, URL, EXCHANGE, ROUTING_KEY, EXCHANGE_TYPE, DELIVERY_MODE, MANDATORY, IMMEDIATE, DURABLE, INTERNAL, NO_WAIT, AUTO_DELETED, PUBLISHING_CONFIRMS, QUEUE_DIR, QUEUE_LIMIT)',
    'minio-config: Tenant/crs-minio: env MINIO_NOTIFY_AMQP_URL_other refers to $(...), which nothing expands in config.env',
    'minio-config: Tenant/crs-minio: env RABBITMQ_PASSWORD uses valueFrom, which the operator writes into config.env as an empty string',
    'minio-config: Tenant/crs-minio: parity EC:6 exceeds half the 8 drives of pool pool-0: MinIO will not start',
    'probes: Deployment/crs-api: container api: no readinessProbe',
    'rabbitmq-users: Deployment/crs-api: container api: reads crs-rabbitmq-default-user, the RabbitMQ default (administrator) user',
    'rabbitmq-users: Permission/crs-minio: configure ".*" does not name its resources (anchored, no bare .*)',
    'rabbitmq-users: Secret/crs-rabbitmq-cdc: RabbitMQ user crs-cdc is shared by Deployment/crs-cdc, Deployment/crs-renderer',
    'rabbitmq-users: Tenant/crs-minio: its notification target logs in to RabbitMQ as the default user (crs/rabbitmq/default)',
    'rabbitmq-users: User/crs-cdc: its Secret crs-rabbitmq-cdc is not labelled rabbitmq.com/topology-operator: "true", so the topology operator cannot see it',
    'rabbitmq-users: User/crs-minio: has tags: a component needs no management access',
    'replicas: Deployment/crs-api: must run at least 2 replicas, found 1',
    'replicas: Deployment/crs-cdc: must run exactly 2 replicas (one active, one standby), found 3',
    'replicas: RabbitmqCluster/crs-rabbitmq: must run at least 2 replicas, found 1',
    'resources: Deployment/crs-cdc: container cdc: no resources.limits.memory',
    'secret-literal: Secret/crs-leaked: literal secret stringData in the manifests (use an ExternalSecret or a SealedSecret)',
    'security-context: Deployment/crs-renderer: container renderer: readOnlyRootFilesystem must be true',
    'stream-storage: RabbitmqCluster/crs-rabbitmq: its volume (12.0 GiB) must hold 1.5 x (CHANGE_STREAM_MAX_BYTES + a 500 MB segment) + disk_free_limit = 25.7 GiB',
    'termination-grace: Deployment/crs-api: container api: terminationGracePeriodSeconds 10 must exceed preStop 5 s + SHUTDOWN_GRACE_MS 10 s',
    'topology-spread: Deployment/crs-renderer: no topologySpreadConstraint over kubernetes.io/hostname',
    'wal-headroom: Cluster/crs-pg: the WAL volume (10.0 GiB) must hold 1.5 x (slot cap + wal_keep_size + max_wal_size) = 16.5 GiB',
    'wal-level: Cluster/crs-pg: postgresql.parameters.wal_level must be logical (the CDC decodes the WAL), found replica',
  ]);
});
