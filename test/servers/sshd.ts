/**
 * A real OpenSSH server for tests: Debian's `/usr/sbin/sshd` (package openssh-server) started
 * in the foreground on 127.0.0.1 with its own host key (ssh-keygen), its own config file and
 * authorized_keys in a temporary directory (no PAM, StrictModes off, key authentication only,
 * GIT_PROTOCOL accepted as git's own clients send it). A client key logs in with a forced
 * command that records each command (and GIT_PROTOCOL) before running it with the login's
 * shell: so the tests see every git-upload-pack the client ran.
 *
 * `sshdMissing()` says why the SSH tests cannot run on this machine (they skip, saying so).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why sshd tests cannot run here, or undefined when they can. */
export function sshdMissing(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is not installed (Debian package openssh-server: apt-get install -y openssh-server)`;
  for (const tool of ['ssh-keygen', 'ssh-keyscan']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (Debian package openssh-client)`;
    }
  }
  return undefined;
}

export interface KeyPair {
  /** the private key file's text (OpenSSH format) */
  privateKey: string;
  /** `type base64 comment` */
  publicKey: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it */
  fingerprint: string;
  file: string;
}

/** A new key pair made by ssh-keygen (no passphrase unless given). */
export function generateKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', passphrase = ''): KeyPair {
  const file = path.join(dir, name);
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', name, '-f', file], { stdio: 'ignore' });
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!;
  return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8').trim(), fingerprint, file };
}

export interface TestSshd {
  port: number;
  host: '127.0.0.1';
  /** the user the server runs as, who logs in */
  user: string;
  /** the host key the server presents now */
  hostKey: KeyPair;
  /** the client key that is authorised */
  clientKey: KeyPair;
  /** `ssh-keyscan` of the running server (`-H`: hashed host names) */
  keyscan(hashed?: boolean): string;
  /** commands the client ran, in order: `{ protocol: GIT_PROTOCOL or '', command }` */
  commands(): Array<{ protocol: string; command: string }>;
  clearCommands(): void;
  /** ignore GIT_PROTOCOL from now on (true) or honour it again (false) */
  protocolV0Only(on: boolean): void;
  /** wait 5 s before running each command from now on (true), or not (false) */
  stall(on: boolean): void;
  /** resolves once no new command has been recorded for `quietMs` (sessions a client gave up on may still start late) */
  settle(quietMs?: number, timeoutMs?: number): Promise<void>;
  /** stops the server, gives it a new host key, starts it again on the same port */
  rotateHostKey(): Promise<void>;
  /** what sshd wrote to stderr (-e), for failure messages */
  log(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the server sends its SSH banner. */
async function waitForBanner(port: number, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const t = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 1_000);
      s.once('data', (d) => {
        clearTimeout(t);
        s.destroy();
        resolve(d.toString('latin1').startsWith('SSH-2.0-'));
      });
      s.once('error', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${timeoutMs} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startSshd(): Promise<TestSshd> {
  const missing = sshdMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(path.join(tmpdir(), 'mcpreg-sshd-'));
  // sshd refuses to start without its privilege separation directory (made by the service
  // scripts, which the tests do not run)
  if (!existsSync('/run/sshd') && process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;
  const clientKey = generateKey(dir, 'client');
  let hostKey = generateKey(dir, 'host_ed25519');
  const commandsLog = path.join(dir, 'commands.log');
  writeFileSync(commandsLog, '');
  const wrapper = path.join(dir, 'record-and-run.sh');
  const v0Flag = path.join(dir, 'v0-only');
  const stallFlag = path.join(dir, 'stall');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      // a server that ignores GIT_PROTOCOL (as one whose sshd does not AcceptEnv it)
      `[ -f '${v0Flag}' ] && unset GIT_PROTOCOL`,
      `printf '%s\\t%s\\n' "\${GIT_PROTOCOL:-}" "$SSH_ORIGINAL_COMMAND" >> '${commandsLog}'`,
      // a server that hangs before answering (timeout tests); recorded first, so that a late
      // session writes nothing into a later test's record; the sleep ends by itself
      `[ -f '${stallFlag}' ] && sleep 5`,
      'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  writeFileSync(path.join(dir, 'authorized_keys'), `command="${wrapper}",no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding ${clientKey.publicKey}\n`);
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey.file}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AcceptEnv GIT_PROTOCOL',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  let child: ChildProcess;
  let stderr = '';
  const log = () => stderr.slice(-4000);
  const start = async () => {
    child = spawn(SSHD, ['-D', '-e', '-f', config, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
    });
    await waitForBanner(port, child, log);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    host: '127.0.0.1',
    user,
    get hostKey() {
      return hostKey;
    },
    clientKey,
    keyscan(hashed = false) {
      return execFileSync('ssh-keyscan', [...(hashed ? ['-H'] : []), '-t', 'ed25519', '-p', String(port), '127.0.0.1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    },
    commands() {
      return readFileSync(commandsLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [protocol = '', command = ''] = l.split('\t');
          return { protocol, command };
        });
    },
    clearCommands() {
      writeFileSync(commandsLog, '');
    },
    protocolV0Only(on: boolean) {
      if (on) writeFileSync(v0Flag, '');
      else rmSync(v0Flag, { force: true });
    },
    stall(on: boolean) {
      if (on) writeFileSync(stallFlag, '');
      else rmSync(stallFlag, { force: true });
    },
    async settle(quietMs = 1_000, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let seen = -1;
      for (;;) {
        const n = readFileSync(commandsLog, 'utf8').length;
        if (n === seen || Date.now() > deadline) return;
        seen = n;
        await new Promise((r) => setTimeout(r, quietMs));
      }
    },
    async rotateHostKey() {
      await stop();
      hostKey = generateKey(dir, 'host_ed25519');
      await start();
    },
    log,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
