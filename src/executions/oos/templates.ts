/**
 * OOS templates kept in the execution store's definitions (kind 'template'): each UpdateTemplate
 * adds a version (`v1`, `v2`, …). Content is compiled once per version (and once per distinct
 * TemplateContent of StartExecution), with loops wrapped for the service's bookkeeping.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CompiledTemplate, CompileTemplateOptions } from '../../oos/index.js';
import { detectFormat, loadTemplateDirectory, loadTemplateText, MAX_TEMPLATE_BYTES, TemplateDefinitionError, validateTemplateName } from '../../oos/index.js';
import type { CompiledFlow } from '../../flow/graph.js';
import type { Clock } from '../../shared/clock.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import type { DefinitionRecord, ExecutionStore } from '../store.js';
import { invalidParameter, noPermission, oosApiError, OosExecutionErrorCodes } from './errors.js';
import { observeLoops } from './observe.js';
import type { LoopObserver } from './observe.js';

/** What is kept beside a template version's content (definition metadata). */
export interface TemplateMetadata extends JsonObject {
  TemplateId: string;
  VersionName: string;
  Tags: JsonObject;
  ResourceGroupId: string;
  /** Where the version came from: the API or a file of the templates folder. */
  Source: string;
  /** Time (ms) the template's first version was created. */
  CreatedAt: number;
  CreatedBy: string;
}

/** The API's `Template` object (CreateTemplate, UpdateTemplate, GetTemplate, ListTemplates). */
export interface TemplateView {
  CreatedBy: string;
  CreatedDate: string;
  Description: string;
  HasTrigger: boolean;
  Hash: string;
  ResourceGroupId: string;
  ShareType: 'Private';
  Tags: JsonObject;
  TemplateFormat: 'JSON' | 'YAML';
  TemplateId: string;
  TemplateName: string;
  TemplateType: 'Automation';
  TemplateVersion: string;
  UpdatedBy: string;
  UpdatedDate: string;
  VersionName: string;
}

/** A template (version) ready to run. */
export interface ResolvedTemplate {
  /** '' for TemplateContent executions. */
  name: string;
  /** 0 for TemplateContent executions. */
  version: number;
  content: string;
  template: CompiledTemplate;
  /** The flow the runner drives (loops wrapped). */
  flow: CompiledFlow;
  record?: DefinitionRecord;
}

export const templateVersionName = (version: number): string => `v${version}`;

/** `v3` → 3; throws InvalidParameter for anything else. */
export function parseTemplateVersion(text: string): number {
  const m = /^v([1-9][0-9]{0,8})$/.exec(text);
  if (!m) throw invalidParameter(`TemplateVersion '${text.slice(0, 40)}' is not a version such as v1.`);
  return Number(m[1]);
}

export const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** `t-` + 20 hex characters, like OOS TemplateIds. */
export const newTemplateId = (): string => `t-${randomBytes(10).toString('hex')}`;

/** The template's Description as the API returns it: a string, or the JSON text of a map. */
export function descriptionOf(document: JsonObject): string {
  const d = document['Description'];
  if (typeof d === 'string') return d;
  if (d === undefined || d === null) return '';
  return JSON.stringify(d);
}

export interface TemplateRepositoryOptions {
  store: ExecutionStore;
  clock: Clock;
  compile: Omit<CompileTemplateOptions, 'name'>;
  observer: LoopObserver;
  account?: string;
  /** CreatedBy/UpdatedBy of templates. */
  user: string;
  /** Compiled versions kept (default 500). */
  cacheSize?: number;
}

export class TemplateRepository {
  private readonly cache = new Map<string, { template: CompiledTemplate; flow: CompiledFlow }>();
  private readonly maxEntries: number;

  constructor(private readonly options: TemplateRepositoryOptions) {
    this.maxEntries = options.cacheSize ?? 500;
  }

  private get store(): ExecutionStore {
    return this.options.store;
  }

  /** Compiles content (cached by name and content hash). Throws TemplateValidationError with every problem. */
  compile(name: string | undefined, content: string): { template: CompiledTemplate; flow: CompiledFlow } {
    const key = `${name ?? ''}\u0000${sha256(content)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let template: CompiledTemplate;
    try {
      template = loadTemplateText(content, { ...this.options.compile, ...(name ? { name } : {}) });
    } catch (err) {
      if (err instanceof TemplateDefinitionError) throw oosApiError(OosExecutionErrorCodes.TemplateValidationError, { args: [err.message] });
      throw err;
    }
    const entry = { template, flow: observeLoops(template, this.options.observer) };
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, entry);
    return entry;
  }

  /** The same repository for another account. */
  forAccount(account: string): TemplateRepository {
    return new TemplateRepository({ ...this.options, account });
  }

  private get ownAccount(): string {
    return this.options.account ?? '';
  }

  /**
   * The given version (default: latest) of this account's template, else of the shared account's
   * ('', the templates folder's files: readable by every account).
   */
  async find(name: string, version?: number): Promise<DefinitionRecord | undefined> {
    const own = await this.store.getDefinition('template', name, version, this.options.account);
    if (own || this.ownAccount === '') return own;
    return this.store.getDefinition('template', name, version, '');
  }

  /** Whether an account other than this one and the shared one holds the template. */
  private async heldElsewhere(name: string): Promise<boolean> {
    return (await this.store.definitionAccounts('template', name)).some((a) => a !== this.ownAccount && a !== '');
  }

  /** The given version (default: latest), own or shared; User.NoPermission (another account's) or EntityNotExists.Template. */
  async require(name: string, version?: number): Promise<DefinitionRecord> {
    const record = await this.find(name, version);
    if (!record) {
      if (await this.heldElsewhere(name)) throw noPermission(`template ${name}`);
      throw oosApiError(OosExecutionErrorCodes.TemplateNotFound, { args: [version === undefined ? name : `${name} (version ${templateVersionName(version)})`] });
    }
    return record;
  }

  /** The latest version of a template this account may change: its own (a shared or another account's one is User.NoPermission). */
  async requireOwn(name: string): Promise<DefinitionRecord> {
    const record = await this.require(name);
    if (record.account !== this.ownAccount) throw noPermission(`template ${name}`);
    return record;
  }

  async resolve(name: string, version?: number): Promise<ResolvedTemplate> {
    const record = await this.require(name, version);
    const compiled = this.compile(name, record.content);
    return { name, version: record.version, content: record.content, ...compiled, record };
  }

  /** Checks a new template's name and content (name rules, ≤ 64 KB, valid template). */
  check(name: string, content: string): CompiledTemplate {
    const problems = validateTemplateName(name);
    if (problems.length > 0) throw invalidParameter(`TemplateName: ${problems.join('; ')}.`);
    if (Buffer.byteLength(content, 'utf8') > MAX_TEMPLATE_BYTES) {
      throw oosApiError(OosExecutionErrorCodes.TemplateValidationError, { args: [`the template content is larger than ${MAX_TEMPLATE_BYTES} bytes (64 KB)`] });
    }
    return this.compile(name, content).template;
  }

  /** Creates v1; EntityAlreadyExists.Template when the name is taken. */
  async create(name: string, content: string, extra: { VersionName?: string; Tags?: JsonObject; ResourceGroupId?: string; Source?: string } = {}): Promise<DefinitionRecord> {
    this.check(name, content);
    const now = this.options.clock.now();
    const metadata: TemplateMetadata = {
      TemplateId: newTemplateId(),
      VersionName: extra.VersionName ?? '',
      Tags: extra.Tags ?? {},
      ResourceGroupId: extra.ResourceGroupId ?? '',
      Source: extra.Source ?? 'api',
      CreatedAt: now,
      CreatedBy: this.options.user,
    };
    const owners = await this.store.definitionAccounts('template', name);
    if (owners.includes('') && this.ownAccount !== '') throw oosApiError(OosExecutionErrorCodes.TemplateAlreadyExists, { args: [name] });
    if (owners.some((a) => a !== this.ownAccount && a !== '')) throw noPermission(`template ${name}`);
    const created = await this.store.createDefinition({ kind: 'template', ...this.accountPart(), name, content, metadata, now });
    if (!created) throw oosApiError(OosExecutionErrorCodes.TemplateAlreadyExists, { args: [name] });
    return created;
  }

  /** Adds the next version (Tags/ResourceGroupId kept unless given). */
  async update(name: string, content: string, extra: { VersionName?: string; Tags?: JsonObject; ResourceGroupId?: string; Source?: string } = {}): Promise<DefinitionRecord> {
    const current = await this.requireOwn(name);
    this.check(name, content);
    const before = metadataOf(current);
    const metadata: TemplateMetadata = {
      ...before,
      VersionName: extra.VersionName ?? '',
      Tags: extra.Tags ?? before.Tags,
      ResourceGroupId: extra.ResourceGroupId ?? before.ResourceGroupId,
      Source: extra.Source ?? 'api',
    };
    const updated = await this.store.updateDefinition({ kind: 'template', ...this.accountPart(), name, content, metadata, now: this.options.clock.now() });
    if (!updated) throw oosApiError(OosExecutionErrorCodes.TemplateNotFound, { args: [name] });
    return updated;
  }

  /** The API's Template object of a version. */
  view(record: DefinitionRecord): TemplateView {
    const meta = metadataOf(record);
    let description = '';
    let hasTrigger = false;
    try {
      const { template } = this.compile(record.name, record.content);
      description = descriptionOf(template.document);
      hasTrigger = template.tasks.some((t) => t.kind === 'trigger');
    } catch {
      // a stored version that no longer compiles (stricter rules): shown without these
    }
    return {
      CreatedBy: meta.CreatedBy,
      CreatedDate: iso(meta.CreatedAt),
      Description: description,
      HasTrigger: hasTrigger,
      Hash: sha256(record.content),
      ResourceGroupId: meta.ResourceGroupId,
      ShareType: 'Private',
      Tags: meta.Tags,
      TemplateFormat: detectFormat(record.content),
      TemplateId: meta.TemplateId,
      TemplateName: record.name,
      TemplateType: 'Automation',
      TemplateVersion: templateVersionName(record.version),
      UpdatedBy: meta.CreatedBy,
      UpdatedDate: iso(record.createdAt),
      VersionName: meta.VersionName,
    };
  }

  /**
   * Loads every template file of `dir` (`.yml`, `.yaml`, `.json`, named by base name): a new name
   * is created, changed content becomes a new version, unchanged content is left alone.
   */
  async loadDirectory(dir: string, logger?: Logger): Promise<{ loaded: string[]; failed: string[] }> {
    const { templates, failures } = await loadTemplateDirectory(dir, this.options.compile);
    const loaded: string[] = [];
    for (const [name, t] of templates) {
      try {
        const current = await this.store.getDefinition('template', name, undefined, this.options.account);
        if (!current) await this.create(name, t.content, { Source: 'file' });
        else if (current.content !== t.content) await this.update(name, t.content, { Source: 'file' });
        loaded.push(name);
      } catch (err) {
        failures.set(t.path, [{ pointer: '', message: err instanceof Error ? err.message : String(err) }]);
      }
    }
    for (const [path, problems] of failures) {
      logger?.warn({ file: path, problems: problems.map((p) => `${p.pointer || '/'}: ${p.message}`) }, 'template file is invalid; skipped');
    }
    return { loaded, failed: [...failures.keys()] };
  }

  private accountPart(): { account?: string } {
    return this.options.account !== undefined ? { account: this.options.account } : {};
  }
}

export function metadataOf(record: DefinitionRecord): TemplateMetadata {
  const m = record.metadata;
  const text = (k: string, d = ''): string => (typeof m[k] === 'string' ? (m[k] as string) : d);
  const tags = m['Tags'];
  return {
    TemplateId: text('TemplateId', `t-${sha256(record.name).slice(0, 20)}`),
    VersionName: text('VersionName'),
    Tags: tags !== undefined && isJsonObject(tags as Json) ? (tags as JsonObject) : {},
    ResourceGroupId: text('ResourceGroupId'),
    Source: text('Source', 'api'),
    CreatedAt: typeof m['CreatedAt'] === 'number' ? m['CreatedAt'] : record.createdAt,
    CreatedBy: text('CreatedBy'),
  };
}
