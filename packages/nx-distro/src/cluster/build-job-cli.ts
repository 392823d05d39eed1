import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { RECIPE_FILE } from '../model/recipe';
import { buildRecipe, type BuildWorkspace } from '../pipeline/build-recipe';
import { checkHost, HostNotReadyError, SKIP_HOST_CHECK_ENV } from '../build-machine/requirements';
import { InputError } from '../model/errors';
import { loadTargetNamed } from '../model/system-target';
import { normalizeOptions } from '../model/plugin-options';
import type { BuildJobRequest } from './build-job';

/** Usage of `nx-distro build-job`. */
export const BUILD_JOB_USAGE = `nx-distro build-job REQUEST
  What a Slurm job of a build runs on its worker (docs/slurm.md): the build that REQUEST (a
  JSON file the build's Nx task wrote) describes, after the host check of this worker. Not for
  use by hand: set execution.kind: slurm in the target file, or NX_DISTRO_EXECUTION=slurm.`;

/**
 * Reads and checks a request file.
 * @throws InputError naming the file when it is not a format-1 request of this workspace layout
 */
export function readBuildJobRequest(file: string): BuildJobRequest {
  let request: BuildJobRequest;
  try {
    request = JSON.parse(readFileSync(file, 'utf8')) as BuildJobRequest;
  } catch (e) {
    throw new InputError(file, 'format', `cannot be read as JSON (${(e as Error).message.split('\n')[0]})`, 'submit the build again from its Nx task');
  }
  if (request?.format !== 1 || typeof request.workspaceRoot !== 'string' || !path.isAbsolute(request.workspaceRoot) || typeof request.projectName !== 'string' || typeof request.projectRoots !== 'object' || (request.mode !== 'cross' && request.mode !== 'native')) {
    throw new InputError(file, 'format', 'is not a build job request of this nx-distro (format 1)', 'submit the build again from its Nx task');
  }
  return request;
}

/**
 * `nx-distro build-job REQUEST`, the body of a build's Slurm job on its worker: the host check
 * of src/build-machine/requirements.ts for the build's system target (a worker without bubblewrap, the
 * cross compiler or the emulator fails with its one-line `host:` messages, naming the worker),
 * then {@link buildRecipe} with the request's options, mode and project roots, exactly as the
 * executor on the head node would have run it, in the request's workspace root.
 * @returns 0 when the package is written, 1 when the build or the host check fails, 2 for a usage error
 */
export async function buildJobCommand(args: readonly string[]): Promise<number> {
  if (args.length !== 1 || args[0].startsWith('-')) {
    console.error(`nx-distro build-job: expected one request file\n${BUILD_JOB_USAGE}`);
    return 2;
  }
  let request: BuildJobRequest;
  try {
    request = readBuildJobRequest(path.resolve(args[0]));
  } catch (e) {
    console.error(`nx-distro build-job: ${(e as Error).message}`);
    return 1;
  }
  const root = request.workspaceRoot;
  const worker = process.env.SLURMD_NODENAME || hostname();
  const pluginOptions = normalizeOptions(request.pluginOptions as object | undefined);
  if (process.env[SKIP_HOST_CHECK_ENV] !== '1') {
    let loaded;
    try {
      loaded = loadTargetNamed(root, pluginOptions.targetsDir, request.options.systemTarget);
    } catch (e) {
      console.error(`nx-distro build-job: ${(e as Error).message}`);
      return 1;
    }
    const problems = checkHost(loaded, root, { build: true });
    if (problems.length) {
      console.error(`${request.taskId}: on worker ${worker}: ${new HostNotReadyError(loaded, problems).message}`);
      return 1;
    }
  }
  console.log(`${request.taskId}: building on worker ${worker}`);
  const projectRoot = request.projectRoots[request.projectName];
  const workspace: BuildWorkspace = {
    root,
    pluginOptions,
    projectRoots: new Map(Object.entries(request.projectRoots)),
    projectName: request.projectName,
    ...(projectRoot !== undefined ? { recipeFile: `${projectRoot}/${RECIPE_FILE}` } : {}),
  };
  // No placement: this job is the build's placement, so it builds here and never submits again.
  const { success } = await buildRecipe(request.options, workspace, request.mode);
  return success ? 0 : 1;
}
