import { spawnSync } from 'node:child_process';
import type { ConfigProblem } from '@podline/config';
import { TERRAFORM_DIR } from './layout';

export interface FmtResult {
  /** False when no terraform binary is on PATH (the check is then skipped, not failed). */
  ran: boolean;
  problems: ConfigProblem[];
}

/** `terraform fmt -check -recursive terraform/` where a terraform binary exists. */
export function terraformFmtCheck(workspaceRoot: string, binary = 'terraform'): FmtResult {
  const res = spawnSync(binary, ['fmt', '-check', '-recursive', '-list=true', '-no-color', TERRAFORM_DIR], {
    cwd: workspaceRoot,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' },
  });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') return { ran: false, problems: [] };
  if (res.error) throw res.error;
  const problems: ConfigProblem[] = res.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((file) => ({ file: `${TERRAFORM_DIR}/${file}`.replace(/^terraform\/terraform\//, 'terraform/'), field: '', message: 'is not formatted the way `terraform fmt` writes it', fix: 'run `terraform fmt -recursive terraform`' }));
  if (res.status !== 0 && !problems.length) {
    // Exit 2 without a file list: a syntax error terraform could not format past.
    const detail = res.stderr.split('\n').filter((l) => l.trim() && !/CLI configuration|terraformrc|^[╷│╵]\s*$/.test(l)).join(' ').trim();
    problems.push({ file: TERRAFORM_DIR, field: '', message: `terraform fmt failed: ${detail || `exit ${res.status}`}`, fix: 'correct the syntax it reports' });
  }
  return { ran: true, problems };
}
