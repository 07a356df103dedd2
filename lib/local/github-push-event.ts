import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { GIT_PUSH_TYPES } from '../events/git-push.ts';

/**
 * The CloudEvent Knative's GitHubSource sends for a push (its shape is documented beside the
 * decoder, lib/events/git-push.ts), built for a push to local mode's example git server so that
 * the sync function cannot tell the two apart. Pure.
 *
 * GitHub's push payload for one ref: `ref`, `before`/`after` (40 zeros for a created or deleted
 * ref), `created`, `deleted`, `repository` (`name`, `full_name`, `html_url`, `clone_url`, `url`),
 * `pusher`, `commits`. Local mode knows no commit list here (it would have to walk the history),
 * so `commits` is empty and `head_commit` only names the new commit; the sync function reads
 * neither. The CloudEvent: type `dev.knative.source.github.push`, source the repository's web
 * URL (`html_url`), id a fresh delivery id (GitHub's `X-GitHub-Delivery` is a UUID), subject the
 * ref (so that pushes to one ref are delivered in order).
 */

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface RefUpdate {
  /** full ref name, `refs/heads/main` */
  ref: string;
  before: string;
  after: string;
}

/**
 * One push event per updated ref (GitHub sends one webhook per ref of a push).
 * `cloneUrl` is the repository's URL as clients fetch it, `http://127.0.0.1:PORT/registry.git`.
 */
export function githubPushEvent(cloneUrl: string, update: RefUpdate, now: Date = new Date()): CloudEvent<unknown> {
  const url = new URL(cloneUrl);
  const path = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  const bare = path.replace(/\.git$/, '');
  const htmlUrl = `${url.origin}/${bare}`;
  const name = bare.split('/').pop() || bare;
  const data = {
    ref: update.ref,
    before: update.before,
    after: update.after,
    created: update.before === ZERO_SHA,
    deleted: update.after === ZERO_SHA,
    forced: false,
    repository: { name, full_name: bare, html_url: htmlUrl, clone_url: `${url.origin}/${path}`, url: htmlUrl },
    pusher: { name: 'mcpreg-local', email: null },
    commits: [],
    head_commit: update.after === ZERO_SHA ? null : { id: update.after },
  };
  return new CloudEvent<unknown>({
    id: randomUUID(),
    type: GIT_PUSH_TYPES.github,
    source: htmlUrl,
    subject: update.ref,
    time: now.toISOString(),
    datacontenttype: 'application/json',
    data,
  });
}

/** The refs that differ between two `ref → sha` listings, as pushes would report them. */
export function refUpdates(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): RefUpdate[] {
  const out: RefUpdate[] = [];
  for (const [ref, sha] of after) if (before.get(ref) !== sha) out.push({ ref, before: before.get(ref) ?? ZERO_SHA, after: sha });
  for (const [ref, sha] of before) if (!after.has(ref)) out.push({ ref, before: sha, after: ZERO_SHA });
  return out.sort((a, b) => a.ref.localeCompare(b.ref));
}
