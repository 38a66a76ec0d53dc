import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Read-only view of a workspace: the real disk or an Nx virtual tree (the generator adapts its Tree).
 * Paths are workspace-relative and '/'-separated.
 */
export interface WorkspaceReader {
  /** File text, or undefined when there is no such file. */
  read(file: string): string | undefined;
  /** Names of the entries of a folder (empty when it does not exist). */
  children(dir: string): string[];
}

/** A reader on the disk under `root`. */
export function diskReader(root: string): WorkspaceReader {
  const abs = (rel: string) => path.join(root, ...rel.split('/'));
  return {
    read(file) {
      try {
        if (!statSync(abs(file)).isFile()) return undefined;
        return readFileSync(abs(file), 'utf8');
      } catch {
        return undefined;
      }
    },
    children(dir) {
      try {
        return readdirSync(abs(dir)).sort();
      } catch {
        return [];
      }
    },
  };
}
