import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { UsageError } from '../io.ts';
import { apiOption, contextOption, kubeconfigOption, namespaceOption, outputOption, repeatableOption } from '../options.ts';

const count = (flag: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`search: ${flag} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
};

export default defineCommand({
  path: ['search'],
  summary: 'search the servers of every registry you may read, best match first',
  define: (cmd, ctx) =>
    cmd
      .usage('QUERY… [options]')
      .description(
        `Full-text search across every registry the caller may read (GET /api/v1/search): a server's
name and title weigh most, then its tags and tool names, then its description; prefixes and
small typos match ("postgre", "postgress" find postgres servers), and a query that is a
server's name puts it first. Each hit names its registry and score.

The query API: --api URL, else $MCPREG_API, else the status.apiEndpoint of a registry found
through the kubeconfig. With MCPREG_AUTH=kubernetes on the API, the kubeconfig user's bearer
token is sent (only when the API asks for one).`,
      )
      .argument('<QUERY...>', 'words to search for')
      .addOption(repeatableOption('--registry <NS/NAME>', 'only this registry'))
      .addOption(repeatableOption('--tag <T>', 'only servers with this tag'))
      .addOption(repeatableOption('--tier <T>', 'only servers of this tier (Official, Community)'))
      .addOption(repeatableOption('--transport <T>', 'only servers with this transport (stdio, sse, streamable-http)'))
      .addOption(repeatableOption('--category <C>', 'only servers of this category'))
      .addOption(new Option('--limit <N>', 'at most N hits, 1–100 (default 20)').argParser(count('--limit', 1, 100)).default(20))
      .addOption(new Option('--offset <N>', 'skip the first N hits (default 0)').argParser(count('--offset', 0, 10_000)).default(0))
      .addOption(outputOption())
      .addOption(apiOption())
      .addOption(kubeconfigOption())
      .addOption(contextOption())
      .addOption(namespaceOption())
      .action(async (words, options) => {
        for (const r of options.registry) if (!/^[^/\s]+\/[^/\s]+$/.test(r)) throw new UsageError(`search: --registry must be NAMESPACE/NAME, not ${JSON.stringify(r)}`);
        const { connectQueryApi } = await import('../query-api.ts');
        const { renderDocument, renderObjects } = await import('../output.ts');
        const { searchColumns, serverName } = await import('../server-view.ts');
        const first = options.registry[0];
        const api = await connectQueryApi(options, ctx.env, first ? { namespace: first.split('/')[0]!, name: first.split('/')[1]! } : undefined);
        const params = new URLSearchParams({ q: words.join(' '), limit: String(options.limit), offset: String(options.offset) });
        for (const [key, values] of [
          ['registry', options.registry],
          ['tag', options.tag],
          ['tier', options.tier],
          ['transport', options.transport],
          ['category', options.category],
        ] as const) {
          for (const v of values) params.append(key, v);
        }
        const { body } = await api.get<import('../server-view.ts').SearchAnswer>(`/api/v1/search?${params}`);
        if (options.output === 'json' || options.output === 'yaml') {
          ctx.io.stdout.write(renderDocument(body, options.output));
          return;
        }
        if (body.results.length === 0) {
          ctx.io.stderr.write(`no servers match ${JSON.stringify(body.query)}\n`);
          return;
        }
        ctx.io.stdout.write(renderObjects(body.results, options.output, { columns: searchColumns, name: serverName }));
        if (body.nextOffset !== undefined && options.output !== 'name') ctx.io.stderr.write(`${body.results.length} of ${body.total} hits; --offset ${body.nextOffset} for more\n`);
      }),
});
