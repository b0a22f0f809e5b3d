// /clusters — where runs execute, per scope (account → org → project → env; the most specific
// wins). Anyone may read; writes (PUT /v1/clusters, DELETE) need the role access.js names (admin):
// others see no edit control, and the API decides anyway (its 403 is shown as it comes).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { deleteCluster, listClusters, putCluster } from '../api.js';
import { formatDateTime } from '../format.js';
import { readForm } from '../forms.js';
import { useApi } from '../hooks.js';
import { ErrorMessage, Loading, Notice } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';

export default function ClustersPage() {
  const clusters = useApi(() => listClusters(), []);
  const [editing, setEditing] = useState(null);
  const [outcome, setOutcome] = useState({ message: null, error: null });

  async function remove(cluster) {
    if (!window.confirm(`Delete the ${scopeOf(cluster)} cluster configuration?`)) return;
    try {
      await deleteCluster(cluster.id);
      setOutcome({ message: 'Cluster configuration deleted.', error: null });
      clusters.reload();
    } catch (error) {
      setOutcome({ message: null, error });
    }
  }

  function saved(cluster) {
    setOutcome({ message: `Saved the ${scopeOf(cluster)} configuration.`, error: null });
    setEditing(null);
    clusters.reload();
  }

  return html`
    <${PageHeading} title="Clusters" />
    <p>Where runs execute. A run uses the configuration of its most specific scope: environment, then project, then organisation, then the account.</p>
    <${ErrorMessage} error=${clusters.error} title="Could not list the clusters" />
    <${ErrorMessage} error=${outcome.error} title="Not deleted" />
    ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
    ${clusters.loading && !clusters.data ? html`<${Loading} what="Loading clusters" />`
      : html`<${ClustersTable} clusters=${clusters.data?.items ?? []} onEdit=${setEditing} onDelete=${remove} />`}
    ${may('PUT /v1/clusters') ? html`<${ClusterForm} key=${editing?.id ?? 'new'} cluster=${editing} onSaved=${saved} onCancel=${() => setEditing(null)} />` : null}`;
}

function scopeOf(cluster) {
  const parts = [['org', cluster.orgId], ['project', cluster.projectId], ['env', cluster.envId]].filter(([, v]) => v);
  return parts.length ? parts.map(([k, v]) => `${k} ${v}`).join(' / ') : 'account-wide';
}

function ClustersTable({ clusters, onEdit, onDelete }) {
  if (!clusters.length) return html`<p data-testid="clusters-list">No configuration stored: runs use the deployment's default cluster.</p>`;
  return html`
    <table class="listing" data-testid="clusters-list">
      <caption class="visually-hidden">Cluster configurations</caption>
      <thead><tr>
        <th scope="col">Scope</th><th scope="col">Backend</th><th scope="col">Max workers</th><th scope="col">ECS cluster</th>
        <th scope="col">Updated</th><th scope="col">Actions</th>
      </tr></thead>
      <tbody>${clusters.map((cluster) => html`
        <tr key=${cluster.id} data-testid="cluster-row">
          <th scope="row">${scopeOf(cluster)}</th>
          <td>${cluster.backend}</td>
          <td>${cluster.maxWorkers}</td>
          <td>${cluster.ecs?.cluster ?? '—'}</td>
          <td>${cluster.updatedBy}, ${formatDateTime(cluster.updatedAt)}</td>
          <td><div class="actions">
            ${may('PUT /v1/clusters') ? html`<button type="button" class="secondary" onClick=${() => onEdit(cluster)}>Edit<span class="visually-hidden"> ${scopeOf(cluster)}</span></button>` : null}
            ${may('DELETE /v1/clusters/{clusterId}') ? html`<button type="button" class="danger" onClick=${() => onDelete(cluster)}>Delete<span class="visually-hidden"> ${scopeOf(cluster)}</span></button>` : null}
          </div></td>
        </tr>`)}
      </tbody>
    </table>`;
}

const ECS_FIELDS = [
  { name: 'cluster', label: 'ECS cluster', required: true },
  { name: 'masterTaskDefinition', label: 'Master task definition', required: true },
  { name: 'workerTaskDefinition', label: 'Worker task definition', required: true },
  { name: 'subnets', label: 'Subnets (comma-separated)', required: true, list: true },
  { name: 'securityGroups', label: 'Security groups (comma-separated)', required: true, list: true },
  { name: 'containerName', label: 'Container name', placeholder: 'locust' },
  { name: 'scriptBucket', label: 'Script bucket' },
];

function ClusterForm({ cluster, onSaved, onCancel }) {
  const [backend, setBackend] = useState(cluster?.backend ?? 'local');
  const [error, setError] = useState(null);

  async function submit(event) {
    event.preventDefault();
    setError(null);
    try {
      onSaved(await putCluster(requestBody(event.currentTarget)));
    } catch (failure) {
      setError(failure);
    }
  }

  const ecs = cluster?.ecs ?? {};
  return html`
    <section class="card" aria-labelledby="cluster-form-heading">
      <h2 id="cluster-form-heading">${cluster ? `Edit the ${scopeOf(cluster)} configuration` : 'New configuration'}</h2>
      <form class="grid-form" onSubmit=${submit}>
        <label>Organisation id <input name="orgId" defaultValue=${cluster?.orgId ?? ''} placeholder="any" /></label>
        <label>Project id <input name="projectId" defaultValue=${cluster?.projectId ?? ''} placeholder="any" /></label>
        <label>Environment id <input name="envId" defaultValue=${cluster?.envId ?? ''} placeholder="any" /></label>
        <label>Backend
          <select name="backend" value=${backend} onChange=${(e) => setBackend(e.currentTarget.value)}>
            <option value="local">local (Locust processes)</option>
            <option value="ecs">ecs (Fargate)</option>
          </select>
        </label>
        <label>Max workers <input name="maxWorkers" type="number" min="1" max="64" defaultValue=${cluster?.maxWorkers ?? 8} /></label>
        ${backend === 'ecs' ? html`
          <fieldset class="grid-form">
            <legend>ECS settings</legend>
            ${ECS_FIELDS.map((field) => html`
              <label>${field.label}
                <input name=${`ecs.${field.name}`} required=${field.required} placeholder=${field.placeholder}
                  defaultValue=${field.list ? (ecs[field.name] ?? []).join(', ') : ecs[field.name] ?? ''} />
              </label>`)}
            <label class="checkbox"><input type="checkbox" name="ecs.assignPublicIp" defaultChecked=${ecs.assignPublicIp ?? false} /> Assign a public IP</label>
          </fieldset>` : null}
        <${ErrorMessage} error=${error} title="Not saved" />
        <div class="buttons">
          <button type="submit">Save configuration</button>
          ${cluster ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
        </div>
      </form>
    </section>`;
}

/** The form as PUT /v1/clusters takes it: `ecs.*` fields nested, comma lists split. */
function requestBody(form) {
  const fields = readForm(form);
  const body = {};
  const ecs = {};
  for (const [name, value] of Object.entries(fields)) {
    if (!name.startsWith('ecs.')) body[name] = value;
    else {
      const key = name.slice(4);
      ecs[key] = ECS_FIELDS.find((f) => f.name === key)?.list ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
    }
  }
  if (body.backend === 'ecs') body.ecs = ecs;
  return body;
}
