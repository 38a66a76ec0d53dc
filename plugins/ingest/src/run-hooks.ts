import type { PostTasksExecution, PreTasksExecution } from '@nx/devkit';

/** Give every task of this Nx run one run id, so their report records land in one file. */
export const preTasksExecution: PreTasksExecution = (_options, context) => {
  process.env.PODLINE_RUN_ID = context.id;
};

/** End of run: the summary is printed by the report module (filled in by the operations issue). */
export const postTasksExecution: PostTasksExecution = async () => {
  /* summary printing lands with the run report */
};
